"""Token stores (in-memory and a real Redis) and the refresh protocol between clients that share one."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from cryptography.fernet import Fernet, InvalidToken
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from wise_async import (
    BadRequestError,
    MemoryTokenStore,
    OAuthTokens,
    TokenKey,
    TokensNotFoundError,
    TokenStore,
    TokenStoreError,
    UserTokens,
    WiseClient,
)
from wise_async.redis import RedisTokenStore
from wise_async.testing import FakeWise

from .servers import RedisServer, free_port

KEY = TokenKey("client-1", "user-42")
PAIR = OAuthTokens(
    access_token="access-1",
    refresh_token="refresh-1",
    expires_at=time.time() + 3600,
    refresh_token_expires_at=time.time() + 86400,
    scope="transfers",
)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[TokenStore]:
    if request.param == "memory":
        yield MemoryTokenStore()
        return
    redis = Redis.from_url(redis_server.url)
    await redis.flushdb()
    yield RedisTokenStore(redis, lease=1.0)
    await redis.aclose()


async def test_store_keeps_one_pair_per_client_and_user(store: TokenStore) -> None:
    assert isinstance(store, TokenStore)
    assert await store.load(KEY) is None
    assert await store.add(KEY, PAIR) is True
    assert await store.add(KEY, PAIR.__class__(access_token="other")) is False  # add never overwrites
    assert await store.load(KEY) == PAIR
    assert await store.load(TokenKey("client-1", "user-43")) is None
    assert await store.load(TokenKey("client-2", "user-42")) is None
    assert await store.load(TokenKey("client-1")) is None  # the client's own token is another key
    newer = OAuthTokens(access_token="access-2", refresh_token="refresh-2", expires_at=PAIR.expires_at)
    await store.save(KEY, newer)
    assert await store.load(KEY) == newer


async def test_refresh_lease_is_exclusive_until_released(store: TokenStore) -> None:
    lease = await store.try_lease(KEY)
    assert lease is not None
    async with lease:
        assert await store.try_lease(KEY) is None
        other = await store.try_lease(TokenKey("client-1", "user-43"))  # leases are per key
        assert other is not None
        async with other:
            pass
    again = await store.try_lease(KEY)
    assert again is not None
    async with again:
        pass


async def test_memory_store_forgets_pairs_past_their_refresh_expiry() -> None:
    now = [1000.0]
    store = MemoryTokenStore(clock=lambda: now[0])
    await store.save(KEY, OAuthTokens("a", expires_at=1010, refresh_token="r", refresh_token_expires_at=2000))
    now[0] = 1500  # the access token expired, the refresh token did not: keep the pair
    assert await store.load(KEY) is not None
    now[0] = 2000
    assert await store.load(KEY) is None


async def test_redis_store_expires_keys_with_the_refresh_token(redis: Redis) -> None:
    store = RedisTokenStore(redis)
    await store.save(KEY, dataclasses.replace(PAIR, refresh_token_expires_at=time.time() + 86400))
    ttl = await redis.pttl(store.name(KEY))
    assert 86_000_000 < ttl <= 86_400_000
    client_key = TokenKey("client-1")
    await store.save(client_key, OAuthTokens("client-token", expires_at=time.time() + 60))
    assert 0 < await redis.pttl(store.name(client_key)) <= 60_000


async def test_redis_store_encrypts_values_at_rest(redis: Redis) -> None:
    cipher = Fernet(Fernet.generate_key())
    store = RedisTokenStore(redis, cipher=cipher)
    await store.save(KEY, PAIR)
    raw = await redis.get(store.name(KEY))
    assert raw is not None
    assert b"access-1" not in raw and b"refresh-1" not in raw
    assert await store.load(KEY) == PAIR
    with pytest.raises(TokenStoreError, match="user:client-1:user-42") as caught:
        await RedisTokenStore(redis, cipher=Fernet(Fernet.generate_key())).load(KEY)  # another key
    assert isinstance(caught.value.__context__, InvalidToken)
    assert "access-1" not in str(caught.value)
    assert "access-1" not in repr(store) and "access-1" not in repr(await store.load(KEY))


async def test_unreachable_redis_is_a_typed_error_for_the_call() -> None:
    fake, _ = fake_with_user()
    down = Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))  # nothing listens
    async with client(fake, RedisTokenStore(down), user_key="user-42") as wise:
        with pytest.raises(TokenStoreError, match="read failed for user:client-1:user-42"):
            await wise.profiles.list()
    await down.aclose()


async def test_dead_lease_holder_blocks_others_for_at_most_the_lease(redis: Redis) -> None:
    store = RedisTokenStore(redis, lease=0.3)
    abandoned = await store.try_lease(KEY)  # taken and never entered: as if its process died
    assert abandoned is not None
    assert await store.try_lease(KEY) is None
    await anyio.sleep(0.4)
    taken = await store.try_lease(KEY)
    assert taken is not None
    async with taken:
        pass


async def test_live_lease_holder_keeps_its_lease_past_the_lease_time(redis: Redis) -> None:
    store = RedisTokenStore(redis, lease=0.3)
    lease = await store.try_lease(KEY)
    assert lease is not None
    async with lease:
        await anyio.sleep(0.8)  # renewed every 0.1 s
        assert await store.try_lease(KEY) is None
        holder = await redis.get(store.lease_name(KEY))
        assert holder is not None
    assert await redis.get(store.lease_name(KEY)) is None  # released on exit


async def test_lease_release_never_deletes_another_holders_lease(redis: Redis) -> None:
    store = RedisTokenStore(redis, lease=0.2)
    first = await store.try_lease(KEY)
    assert first is not None
    await anyio.sleep(0.3)  # first's lease lapsed (never entered, never renewed)
    second = await store.try_lease(KEY)
    assert second is not None
    async with second:
        async with first:  # the stale holder finishes late: its release must not free second's lease
            pass
        assert await store.try_lease(KEY) is None
    assert await store.try_lease(KEY) is not None


# ------------------------------------------------------------------------------- clients sharing a store


def fake_with_user() -> tuple[FakeWise, OAuthTokens]:
    fake = FakeWise()
    fake.add_client("client-1", "secret-1")
    issued = fake.issue_user_token(client_id="client-1")
    return fake, OAuthTokens.from_response(issued, now=time.time())


def client(fake: FakeWise, store: TokenStore, **kwargs: Any) -> WiseClient:
    return WiseClient(
        client_id="client-1",
        client_secret="secret-1",
        token_store=store,
        transport=fake.transport(),
        **kwargs,
    )


async def test_clients_sharing_a_store_refresh_once_and_adopt_each_others_pair(
    redis: Redis, redis_server: RedisServer
) -> None:
    """Four clients (as if four processes: own store object, own Redis connection) share one user."""
    fake, tokens = fake_with_user()
    await RedisTokenStore(redis).save(KEY, tokens)
    hooks: list[str] = []
    connections = [Redis.from_url(redis_server.url) for _ in range(4)]
    clients = [
        client(
            fake,
            RedisTokenStore(connection),
            user_key="user-42",
            on_token_refresh=lambda t: hooks.append(t.access_token),
        )
        for connection in connections
    ]
    fake.clock.advance(fake.access_token_ttl + 1)

    async def calls(wise: WiseClient) -> None:
        async with anyio.create_task_group() as tasks:
            for _ in range(20):
                tasks.start_soon(wise.profiles.list)

    async with anyio.create_task_group() as tasks:
        for wise in clients:
            tasks.start_soon(calls, wise)
    assert fake.counters["grant:refresh_token"] == 1
    assert len(hooks) == 1
    stored = await RedisTokenStore(redis).load(KEY)
    assert stored is not None and stored.access_token == hooks[0]
    assert {wise.user_tokens.access_token for wise in clients if wise.user_tokens} == {hooks[0]}
    for wise in clients:
        await wise.aclose()
    for connection in connections:
        await connection.aclose()


async def test_a_refreshed_pair_in_the_store_is_adopted_without_asking_wise() -> None:
    """After a 401, the store is re-read first: another process's newer pair is used as is."""
    fake, tokens = fake_with_user()
    store = MemoryTokenStore()
    await store.save(KEY, tokens)
    async with (
        client(fake, store, user_key="user-42") as first,
        client(fake, store, user_key="user-42") as second,
    ):
        await first.profiles.list()
        await second.profiles.list()
        fake.clock.advance(fake.access_token_ttl + 1)
        await first.profiles.list()  # 401 -> refresh -> replay
        assert fake.counters["grant:refresh_token"] == 1
        await second.profiles.list()  # 401 with the old token -> the store has a newer pair -> replay
        assert fake.counters["grant:refresh_token"] == 1
        assert first.user_tokens == second.user_tokens == await store.load(KEY)


async def test_refused_refresh_adopts_a_pair_stored_meanwhile() -> None:
    """A holder whose lease ran out mid-refresh: its refresh token is refused (invalid_grant) because
    another process refreshed first; the pair that process stored is used instead of failing."""
    fake, tokens = fake_with_user()
    store = MemoryTokenStore()
    await store.save(KEY, tokens)
    provider = UserTokens(store=store, key=KEY)
    async with client(fake, MemoryTokenStore(), token_provider=provider) as wise:
        await wise.profiles.list()
        # Another process refreshes with the same refresh token and stores the new pair ...
        async with httpx.AsyncClient(
            transport=fake.transport(), base_url="https://api.wise-sandbox.com"
        ) as raw:
            response = await raw.post(
                "/oauth/token",
                data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token or ""},
                auth=("client-1", "secret-1"),
            )
        newer = OAuthTokens.from_response(response.json(), now=time.time())
        # ... but this process read the store before that write landed, and still holds the old pair.
        assert provider.tokens == tokens
        original_load = store.load
        reads = 0

        async def late_load(key: TokenKey) -> OAuthTokens | None:
            nonlocal reads
            reads += 1
            if reads <= 2:  # the two reads before refreshing still see the old pair
                return tokens
            await store.save(KEY, newer)
            return await original_load(key)

        store.load = late_load  # type: ignore[method-assign]
        await wise.profiles.list()
    assert provider.tokens == newer
    assert fake.counters["grant:refresh_token"] == 2  # the other process's, and our refused one


async def test_store_without_tokens_for_the_user_raises_a_clear_error() -> None:
    fake, _ = fake_with_user()
    async with client(fake, MemoryTokenStore(), user_key="nobody") as wise:
        with pytest.raises(TokensNotFoundError, match="user:client-1:nobody"):
            await wise.profiles.list()


async def test_seed_tokens_do_not_overwrite_a_newer_stored_pair() -> None:
    fake, tokens = fake_with_user()
    store = MemoryTokenStore()
    await store.save(KEY, tokens)
    stale = OAuthTokens("stale-access", refresh_token="stale-refresh", expires_at=time.time() + 3600)
    async with client(
        fake, store, user_key="user-42", access_token=stale.access_token, refresh_token=stale.refresh_token
    ) as wise:
        await wise.profiles.list()
        assert wise.user_tokens == tokens
    assert fake.counters["grant:refresh_token"] == 0


async def test_code_exchange_replaces_the_stored_pair_for_every_client() -> None:
    fake, tokens = fake_with_user()
    fake.add_authorization_code("code-1", redirect_uri="https://app.example/cb", client_id="client-1")
    store = MemoryTokenStore()
    await store.save(KEY, tokens)
    async with client(fake, store, user_key="user-42") as wise:
        new = await wise.exchange_authorization_code("code-1", "https://app.example/cb")
    assert await store.load(KEY) == new != tokens


async def test_client_credentials_token_is_shared_through_the_store() -> None:
    fake, _ = fake_with_user()
    store = MemoryTokenStore()
    wises = [client(fake, store) for _ in range(3)]
    path, params = (
        "/v1/auth/jose/response/public-keys",
        {"scope": "PAYLOAD_ENCRYPTION", "algorithm": "RSA_OAEP_256"},
    )
    async with anyio.create_task_group() as tasks:
        for wise in wises:
            for _ in range(5):
                tasks.start_soon(lambda w=wise: w.http_client.get(path, params=params))
    assert fake.counters["grant:client_credentials"] == 1
    stored = await store.load(TokenKey("client-1"))
    assert stored is not None and stored.refresh_token is None
    for wise in wises:
        await wise.aclose()


async def test_revoked_refresh_token_raises_invalid_grant_once_for_concurrent_calls() -> None:
    fake, tokens = fake_with_user()
    store = MemoryTokenStore()
    await store.save(KEY, tokens)
    fake.revoke_token(tokens.refresh_token or "")
    errors: list[BadRequestError] = []
    async with client(fake, store, user_key="user-42") as wise:

        async def call() -> None:
            try:
                await wise.profiles.list()
            except BadRequestError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tasks:
            for _ in range(10):
                tasks.start_soon(call)
    assert len(errors) == 10
    assert fake.counters["grant:refresh_token"] == 1  # the refused refresh was shared, not repeated


async def test_a_failed_store_write_after_a_refresh_keeps_the_call_and_the_hook(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Wise already rotated the pair: the call goes on with it and the app's hook still receives it."""
    fake, tokens = fake_with_user()

    class WriteFails(MemoryTokenStore):
        async def save(self, key: TokenKey, tokens: OAuthTokens) -> None:
            raise TokenStoreError("token store write failed (test)")

    store = WriteFails()
    await MemoryTokenStore.save(store, KEY, tokens)
    hooks: list[OAuthTokens] = []
    async with client(fake, store, user_key="user-42", on_token_refresh=hooks.append) as wise:
        fake.clock.advance(fake.access_token_ttl + 1)
        await wise.profiles.list()
        assert len(hooks) == 1 and wise.user_tokens == hooks[0]
    assert "could not be stored" in caplog.text
    assert hooks[0].access_token not in caplog.text


def test_token_keys_are_unambiguous_store_keys() -> None:
    assert str(TokenKey("client-1", "user-42")) == "user:client-1:user-42"
    assert str(TokenKey("client-1")) == "client:client-1"
    assert str(TokenKey("a:b", "c")) != str(TokenKey("a", "b:c"))
