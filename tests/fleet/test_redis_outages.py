"""A real redis-server that dies (SIGKILL), freezes (SIGSTOP) and comes back, under every fleet component.

Each test has a redis-server of its own, so freezing or killing it disturbs no other test. The ``Redis``
clients use ``socket_timeout=None`` (redis-py's default): only the components' own timeouts and the
calls' budgets bound the waits. Each test prints the figures it asserts ("fleet figures").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest
from redis.asyncio import Redis

from wise_async import (
    CoordinationError,
    OAuthTokens,
    TokenKey,
    TokenStoreError,
    WiseClient,
    WiseError,
)
from wise_async.redis import DEFAULT_TIMEOUT, RedisRateLimiter, RedisTokenStore, RedisWebhookDeduplicator
from wise_async.testing import FakeWise

from .conftest import report_figure
from .servers import RedisServer

KEY = TokenKey("client-1", "user-42")
COMPONENT_TIMEOUT = 0.5


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with RedisServer() as own:  # this test's own: it may freeze or kill it
        yield own


@pytest.fixture
async def redis(server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(server.url, socket_timeout=None)
    try:
        yield client
    finally:
        server.thaw()
        await client.aclose()


def pair() -> OAuthTokens:
    return OAuthTokens(
        access_token="access-1",
        refresh_token="refresh-1",
        expires_at=time.time() + 3600,
        refresh_token_expires_at=time.time() + 86400,
    )


class Fleet:
    """The three components on one Redis, as a worker builds them."""

    def __init__(self, redis: Redis, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.store = RedisTokenStore(redis, timeout=timeout)
        self.limiter = RedisRateLimiter(redis, rate=100, burst=5, timeout=timeout)
        self.dedupe = RedisWebhookDeduplicator(redis, timeout=timeout)

    def operations(self, delivery_id: str) -> dict[str, Callable[[], Awaitable[Any]]]:
        return {
            "store.load": lambda: self.store.load(KEY),
            "store.save": lambda: self.store.save(KEY, pair()),
            "store.try_lease": lambda: self.store.try_lease(KEY),
            "limiter.acquire": lambda: self.limiter.acquire("client-1"),
            "limiter.penalize": lambda: self.limiter.penalize("client-1", 1.0),
            "dedupe.seen": lambda: self.dedupe.seen(delivery_id),
            "dedupe.forget": lambda: self.dedupe.forget(delivery_id),
        }


async def failures(fleet: Fleet, delivery_id: str, bound: float) -> tuple[dict[str, str], float]:
    """Each operation's error type (or "returned") and the longest it took; none may pass ``bound``."""
    seen: dict[str, str] = {}
    longest = 0.0
    for name, operation in fleet.operations(delivery_id).items():
        started = time.monotonic()
        try:
            with anyio.fail_after(bound):  # a guard: a hang is a failure, not a stuck test run
                await operation()
            seen[name] = "returned"
        except WiseError as exc:
            seen[name] = type(exc).__name__
            assert "access-1" not in str(exc) and "refresh-1" not in str(exc)
        longest = max(longest, time.monotonic() - started)
    return seen, longest


async def works(fleet: Fleet, delivery_id: str) -> None:
    await fleet.store.save(KEY, pair())
    loaded = await fleet.store.load(KEY)
    assert loaded is not None and loaded.access_token == "access-1"
    lease = await fleet.store.try_lease(KEY)
    assert lease is not None
    async with lease:
        pass
    await fleet.limiter.acquire("client-1")
    assert await fleet.dedupe.seen(delivery_id) is False
    assert await fleet.dedupe.seen(delivery_id) is True


def typed(seen: dict[str, str]) -> bool:
    expected = {
        name: "TokenStoreError" if name.startswith("store.") else "CoordinationError" for name in seen
    }
    return seen == expected


async def test_killed_redis_is_a_typed_error_from_every_component_and_they_recover(
    server: RedisServer, redis: Redis
) -> None:
    fleet = Fleet(redis)
    await works(fleet, "before")
    server.kill()
    seen, longest = await failures(fleet, "during", bound=DEFAULT_TIMEOUT + 1)
    server.restart()  # same port, empty: the clients reconnect by themselves
    await works(fleet, "after")
    report_figure(
        f"Redis killed: {sum(v != 'returned' for v in seen.values())}/{len(seen)} component operations "
        f"raised a typed WiseError ({', '.join(sorted(set(seen.values())))}), the longest after "
        f"{longest:.2f} s; after a restart on the same port all succeed"
    )
    assert typed(seen), seen
    assert issubclass(TokenStoreError, CoordinationError)


async def test_frozen_redis_fails_each_component_within_its_timeout_and_a_late_mark_is_dropped(
    server: RedisServer, redis: Redis
) -> None:
    fleet = Fleet(redis, timeout=COMPONENT_TIMEOUT)
    await works(fleet, "before")
    server.freeze()
    seen, longest = await failures(fleet, "while-frozen", bound=COMPONENT_TIMEOUT + 1)
    await anyio.sleep(COMPONENT_TIMEOUT)  # the senders gave up; their commands wait in Redis's sockets
    server.thaw()
    # The mark of the failed `seen` reached Redis after its sender gave up: it must not count, or the
    # redelivery Wise makes (the app answered an error) would be dropped as a duplicate.
    redelivered = await fleet.dedupe.seen("while-frozen")
    await works(fleet, "after")
    report_figure(
        f"Redis frozen (SIGSTOP), component timeout {COMPONENT_TIMEOUT:g} s: "
        f"{sum(v != 'returned' for v in seen.values())}/{len(seen)} operations raised a typed WiseError, "
        f"the longest after {longest:.2f} s (bound {COMPONENT_TIMEOUT + 1:g} s); the delivery whose mark "
        f"timed out is {'taken for a duplicate' if redelivered else 'processed'} when redelivered"
    )
    assert typed(seen), seen
    assert longest <= COMPONENT_TIMEOUT + 1
    assert redelivered is False


async def test_calls_on_a_frozen_redis_end_within_their_budget_and_succeed_after_it_returns(
    server: RedisServer, redis: Redis
) -> None:
    fake = FakeWise()
    fake.add_client("client-1", "secret-1")
    issued = fake.issue_user_token(client_id="client-1")
    await RedisTokenStore(redis).save(KEY, OAuthTokens.from_response(issued, now=time.time()))
    slow_store = RedisTokenStore(redis, timeout=5.0)  # longer than the budgets: the budget must end it
    slow_limiter = RedisRateLimiter(redis, rate=50, burst=5, timeout=5.0)
    user = WiseClient(
        client_id="client-1",
        client_secret="secret-1",
        token_store=slow_store,
        user_key="user-42",
        rate_limiter=slow_limiter,
        transport=fake.transport(),
    )
    paced = WiseClient(  # a personal token: the limiter alone touches Redis
        personal_token=fake.add_personal_token(),
        rate_limiter=slow_limiter,
        transport=fake.transport(),
    )
    unbounded = WiseClient(  # no budget at all: the component's own timeout ends the call
        personal_token=fake.add_personal_token(),
        rate_limiter=RedisRateLimiter(redis, rate=50, burst=5, timeout=COMPONENT_TIMEOUT),
        transport=fake.transport(),
        timeout=None,
    )
    budget = 1.0
    async with user, paced, unbounded:
        await paced.profiles.list()  # `user` stays cold: its first call reads the token store
        server.freeze()
        durations: dict[str, float] = {}
        errors: dict[str, str] = {}

        async def timed(name: str, call: Callable[[], Awaitable[Any]], bound: float) -> None:
            started = time.monotonic()
            try:
                with anyio.fail_after(bound + 2):  # a guard against a hang
                    await call()
                errors[name] = "returned"
            except WiseError as exc:
                errors[name] = type(exc).__name__
            durations[name] = time.monotonic() - started

        await timed("user", lambda: user.profiles.list(timeout=budget), budget)
        await timed("paced", lambda: paced.profiles.list(timeout=budget), budget)
        await timed("no budget", unbounded.profiles.list, COMPONENT_TIMEOUT)
        server.thaw()
        after = [await user.profiles.list(), await paced.profiles.list(), await unbounded.profiles.list()]
    report_figure(
        f"Redis frozen: calls with a {budget:g} s budget ended after at most "
        f"{max(durations['user'], durations['paced']):.2f} s ({errors['user']}, {errors['paced']}); a call "
        f"without a budget after {durations['no budget']:.2f} s ({errors['no budget']}, component timeout "
        f"{COMPONENT_TIMEOUT:g} s); after SIGCONT {len(after)}/3 calls succeed"
    )
    assert errors == {"user": "APITimeoutError", "paced": "APITimeoutError", "no budget": "CoordinationError"}
    assert durations["user"] <= budget + 1 and durations["paced"] <= budget + 1
    assert durations["no budget"] <= COMPONENT_TIMEOUT + 1
    assert all(after)


async def test_a_lease_held_when_redis_freezes_does_not_hold_its_call_past_the_budget(
    server: RedisServer, redis: Redis
) -> None:
    store = RedisTokenStore(redis, timeout=5.0)
    lease = await store.try_lease(KEY)
    assert lease is not None
    server.freeze()
    started = time.monotonic()
    with anyio.move_on_after(0.3):  # the call's budget runs out while it holds the lease
        async with lease:
            await anyio.sleep(10)
    unwound = time.monotonic() - started
    server.thaw()
    report_figure(
        f"Redis frozen under a held refresh lease: the call unwound {unwound - 0.3:.2f} s after its "
        "budget ran out (bound 1 s)"
    )
    assert unwound <= 0.3 + 1
    assert await store.try_lease(KEY) is None  # not released: it lapses by itself within the lease


class ReplyDroppingProxy:
    """A loopback TCP proxy to Redis. Armed with a marker, it forwards the next command that carries
    the marker, drops Redis's reply and closes that client connection: the command ran, and its sender
    sees a connection error, as when a connection breaks at the wrong moment."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.marker: bytes | None = None
        self.dropped = 0

    async def __aenter__(self) -> ReplyDroppingProxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        cut = asyncio.Event()

        async def requests() -> None:
            while data := await reader.read(65536):
                if self.marker is not None and self.marker in data:
                    self.marker = None
                    cut.set()  # before forwarding: the reply is never relayed
                up_writer.write(data)
                await up_writer.drain()
                if cut.is_set():
                    await asyncio.sleep(0.2)  # Redis runs it meanwhile
                    self.dropped += 1
                    break
            writer.close()
            up_writer.close()

        async def replies() -> None:
            while (data := await up_reader.read(65536)) and not cut.is_set():
                writer.write(data)
                await writer.drain()

        await asyncio.gather(requests(), replies(), return_exceptions=True)


async def test_a_mark_or_lease_whose_reply_was_lost_is_still_the_senders(server: RedisServer) -> None:
    async with ReplyDroppingProxy(server.port) as proxy:
        redis = Redis.from_url(f"redis://127.0.0.1:{proxy.port}/0", socket_timeout=None)  # no retries
        dedupe = RedisWebhookDeduplicator(redis)
        store = RedisTokenStore(redis)
        await dedupe.seen("warm-up")  # the scripts are loaded: the next EVALSHA runs at once
        assert await store.try_lease(TokenKey("client-1", "warm-up")) is not None

        proxy.marker = b"delivery-7"
        first = not await dedupe.seen("delivery-7")  # ran in Redis, reply lost, sent again
        proxy.marker = store.lease_name(KEY).encode()
        lease = await store.try_lease(KEY)
        assert proxy.dropped == 2
        assert first, "the delivery was marked by this very call: it must be handled, not dropped"
        assert lease is not None, "the lease was taken by this very call"
        assert await dedupe.seen("delivery-7") is True  # and it is marked for everyone else
        async with lease:
            assert await store.try_lease(KEY) is None
        await redis.aclose()


def test_component_timeouts_default_to_five_seconds_and_must_be_positive() -> None:
    redis = Redis()
    assert DEFAULT_TIMEOUT == 5.0
    assert RedisTokenStore(redis).timeout == RedisRateLimiter(redis, rate=1).timeout == DEFAULT_TIMEOUT
    assert RedisWebhookDeduplicator(redis).timeout == DEFAULT_TIMEOUT
    for build in (RedisTokenStore, RedisWebhookDeduplicator):
        with pytest.raises(ValueError, match="timeout"):
            build(redis, timeout=0)
    with pytest.raises(ValueError, match="timeout"):
        RedisRateLimiter(redis, rate=1, timeout=-1)
