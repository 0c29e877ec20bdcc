"""``wise.card_secrets`` and ``wise.jose_keys`` take the per-call options and run inside the whole-call
budget like every facade method — and a derived client's defaults reach them — shown on a real loopback
connection through the fault-injecting proxy."""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable

import anyio
import httpx
import pytest
import sniffio
from bundle_paths import path_of
from cryptography.hazmat.primitives.asymmetric import rsa

from wise_async import (
    APITimeoutError,
    ClientClosedError,
    InProcessRateLimiter,
    InternalServerError,
    InvalidRequestError,
    ScaRequiredError,
    WiseClient,
)
from wise_async.cards import KEY_PATH, PATHS, CardSecrets
from wise_async.jose import JoseKeyring
from wise_async.testing import FakeJose, FakeWise
from wise_async.testing._fake_jose import FakeCard

from .conftest import CLIENT_ID, CLIENT_SECRET, NO_WAIT, user_client
from .servers import Answer, Exchange, FaultProxy, answer, stall

DETAILS = PATHS["details"]
PIN = PATHS["pin"]
WISE_KEYS = path_of("joseResponsePublicKeysGet")
CLIENT_KEYS = path_of("joseRequestPublicKeysCreate")
UNAVAILABLE = answer(503, b'{"error":"unavailable"}')


def slow(seconds: float) -> Callable[[Exchange, Callable[[], Answer]], tuple[bytes, bool]]:
    """Answer as the upstream does, but only after ``seconds`` (each phase stays within its own limit)."""

    def fault(exchange: Exchange, upstream: Callable[[], Answer]) -> tuple[bytes, bool]:
        reply = upstream()
        time.sleep(seconds)
        return reply.head() + reply.body, False

    return fault


@pytest.fixture(scope="module")
def card_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jose(fake: FakeWise, card_key: rsa.RSAPrivateKey) -> FakeJose:
    return FakeJose.attach(fake, card_key=card_key)


@pytest.fixture
def card(jose: FakeJose) -> FakeCard:
    return jose.add_card()


def sent(proxy: FaultProxy, method: str, path: str) -> list[Exchange]:
    return [e for e in proxy.exchanges if e.method == method and e.path.split("?", 1)[0] == path]


async def test_a_stalled_card_call_ends_with_its_budget(
    fake: FakeWise, proxy: FaultProxy, jose: FakeJose, card: FakeCard
) -> None:
    # The key fetch takes 0.6 s, then the POST stalls: each phase is within its own limit, the call is not.
    proxy.add(slow(0.6), method="GET", path_prefix=KEY_PATH)
    proxy.add(stall(5), method="POST", path_prefix=PIN)
    async with user_client(fake, proxy) as wise:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match=r"cardPinGet.*1\.2s budget"):
            await wise.with_options(timeout=1.2).card_secrets.get_pin(card.token)  # the derived default
        assert 1.1 < time.monotonic() - started < 2.0
        assert proxy.count("POST", PIN) == 1  # a POST without an idempotency key is never resent

        # Per call: after a key rotation, the refused POST, the key refetch and the re-encrypted POST
        # are one call under one budget.
        jose.rotate_card_key()
        proxy.add(slow(0.5), method="POST", path_prefix=DETAILS)  # answered 400: a stale key version
        proxy.add(slow(0.5), method="GET", path_prefix=KEY_PATH)
        proxy.add(stall(5), method="POST", path_prefix=DETAILS)
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match=r"cardSensitiveDetailsGet.*1\.5s budget") as info:
            await wise.card_secrets.get_details(card.token, timeout=1.5)
        assert 1.4 < time.monotonic() - started < 2.3
        assert proxy.count("POST", DETAILS) == 2 and proxy.count("GET", KEY_PATH) == 2
        assert card.token not in str(info.value) and card.pan not in repr(info.value)
        assert (await wise.card_secrets.get_details(card.token)).reveal_pan() == card.pan


def test_the_card_budget_holds_under_trio(fake: FakeWise, proxy: FaultProxy, card: FakeCard) -> None:
    proxy.add(slow(0.3), method="GET", path_prefix=KEY_PATH)
    proxy.add(stall(5), method="POST", path_prefix=DETAILS)

    async def main() -> float:
        assert sniffio.current_async_library() == "trio"
        async with user_client(fake, proxy) as wise:
            started = time.monotonic()
            with pytest.raises(APITimeoutError, match="budget"):
                await wise.card_secrets.get_details(card.token, timeout=1.0)
            return time.monotonic() - started

    assert anyio.run(main, backend="trio") < 1.8


async def test_card_calls_put_the_options_and_the_derived_defaults_on_the_wire(
    fake: FakeWise, proxy: FaultProxy, card: FakeCard
) -> None:
    async with user_client(fake, proxy, default_headers={"X-Team": "cards"}) as wise:
        details = await wise.card_secrets.get_details(
            card.token,
            extra_headers={"X-Debug": "1"},
            extra_query={"trace": "yes"},
            extra_body={"channel": "app"},
        )
        assert details.reveal_pan() == card.pan
        (key_fetch,) = sent(proxy, "GET", KEY_PATH)
        (post,) = sent(proxy, "POST", DETAILS)
        for exchange in (key_fetch, post):  # every request of the call
            assert exchange.headers["x-debug"] == "1" and exchange.headers["x-team"] == "cards"
            assert exchange.path.endswith("?trace=yes")
        assert key_fetch.body == b""  # extra_body goes where there is a body: the POSTed envelope
        assert set(json.loads(post.body)) == {"keyVersion", "encryptedPayload", "channel"}

        derived = wise.with_options(default_headers={"X-Derived": "yes"})
        assert derived.card_secrets is not wise.card_secrets
        assert derived.card_secrets is derived.card_secrets
        await derived.card_secrets.get_pin(card.token)
        (pin_post,) = sent(proxy, "POST", PIN)
        assert pin_post.headers["x-derived"] == "yes" and pin_post.headers["x-team"] == "cards"
        assert "x-debug" not in pin_post.headers  # per call only
        # the derived client shares the key cache: one key fetch for both
        assert len(sent(proxy, "GET", KEY_PATH)) == 1
        assert derived.card_secrets.fetch_count == wise.card_secrets.fetch_count == 1
        derived.card_secrets.alg = "RSA-OAEP-256"
        assert wise.card_secrets.alg == "RSA-OAEP-256"  # one configuration, shared with the cache

        await wise.card_secrets.get_pin(card.token)
        assert "x-derived" not in sent(proxy, "POST", PIN)[-1].headers  # the parent keeps its own
        key = await derived.card_secrets.encryption_key()
        relayed = await derived.card_secrets.relay(
            "details",
            card.token,
            encrypted_payload=json.loads(post.body)["encryptedPayload"],
            key_version=key.version,
            extra_headers={"X-Relay": "1"},
        )
        assert relayed.status_code == 200
        assert sent(proxy, "POST", DETAILS)[-1].headers["x-relay"] == "1"


async def test_max_retries_reach_the_key_fetch_and_the_post_is_never_resent(
    fake: FakeWise, proxy: FaultProxy, card: FakeCard
) -> None:
    proxy.add(UNAVAILABLE, method="GET", path_prefix=KEY_PATH, times=None)
    async with user_client(fake, proxy) as wise:  # NO_WAIT: 2 retries
        with pytest.raises(InternalServerError):
            await wise.with_options(max_retries=0).card_secrets.get_details(card.token)
        assert proxy.count("GET", KEY_PATH) == 1
        with pytest.raises(InternalServerError):
            await wise.card_secrets.get_details(card.token, max_retries=1)
        assert proxy.count("GET", KEY_PATH) == 1 + 2
        with pytest.raises(InternalServerError):
            await wise.card_secrets.get_details(card.token)
        assert proxy.count("GET", KEY_PATH) == 1 + 2 + 3
        with pytest.raises(InternalServerError):
            await wise.card_secrets.encryption_key(max_retries=0)
        assert proxy.count("GET", KEY_PATH) == 1 + 2 + 3 + 1

        proxy._faults.clear()
        proxy.add(UNAVAILABLE, method="POST", path_prefix=DETAILS, times=None)
        with pytest.raises(InternalServerError):
            await wise.card_secrets.get_details(card.token, max_retries=5)
        assert proxy.count("POST", DETAILS) == 1  # no idempotency key: a POST is sent once


async def test_jose_key_calls_take_options_and_derived_defaults(fake: FakeWise, proxy: FaultProxy) -> None:
    FakeJose.of(fake)
    keyring = JoseKeyring.generate(signing=None)
    async with user_client(fake, proxy, jose_keys=keyring, default_headers={"X-Team": "keys"}) as wise:
        assert wise.jose_keys is keyring  # the client the keyring was given to uses it as is
        await wise.jose_keys.upload_public_key(
            "PAYLOAD_ENCRYPTION", extra_headers={"X-Debug": "1"}, extra_body={"note": "rotation"}
        )
        (upload,) = sent(proxy, "POST", CLIENT_KEYS)
        assert upload.headers["x-debug"] == "1" and upload.headers["x-team"] == "keys"
        assert json.loads(upload.body)["note"] == "rotation"

        derived = wise.with_options(default_headers={"X-Derived": "yes"}, max_retries=0)
        assert derived.jose_keys is not keyring and derived.jose_keys.client_key is keyring.client_key
        proxy.add(UNAVAILABLE, method="GET", path_prefix=WISE_KEYS)
        with pytest.raises(InternalServerError):
            await derived.jose_keys.wise_encryption_key(extra_query={"trace": "yes"})
        assert proxy.count("GET", WISE_KEYS) == 1  # the derived client's max_retries=0
        (refused,) = sent(proxy, "GET", WISE_KEYS)
        assert refused.headers["x-derived"] == "yes" and "trace=yes" in refused.path

        key = await derived.jose_keys.wise_encryption_key()
        assert keyring.fetch_count == derived.jose_keys.fetch_count == 1  # one cache for both
        assert await wise.jose_keys.wise_encryption_key() == key
        assert len(sent(proxy, "GET", WISE_KEYS)) == 2

        proxy.add(stall(5), method="GET", path_prefix=WISE_KEYS)
        with pytest.raises(APITimeoutError, match=r"joseResponsePublicKeysGet.*budget"):
            await wise.jose_keys.refresh_wise_key(key, timeout=1.0)
        with pytest.raises(InvalidRequestError, match="unknown option"):
            await wise.jose_keys.wise_encryption_key(timout=1)  # type: ignore[call-arg]


async def test_unknown_options_and_closed_clients_fail_as_for_any_call(
    fake: FakeWise, proxy: FaultProxy, card: FakeCard
) -> None:
    async with user_client(fake, proxy) as wise:
        with pytest.raises(InvalidRequestError, match="unknown option"):
            await wise.card_secrets.get_details(card.token, retries=3)  # type: ignore[call-arg]
        with pytest.raises(InvalidRequestError, match="max_retries"):
            await wise.card_secrets.get_pin(card.token, max_retries=-1)
    assert not sent(proxy, "POST", DETAILS) and not sent(proxy, "POST", PIN)
    with pytest.raises(ClientClosedError):
        await wise.card_secrets.get_details(card.token)

    # the caller's httpx client, closed under us: still a ClientClosedError, not httpx's RuntimeError
    own = httpx.AsyncClient(base_url=proxy.url)
    issued = fake.issue_user_token(client_id=CLIENT_ID)
    keyring = JoseKeyring.generate(signing=None)
    wise = WiseClient(
        access_token=issued["access_token"],
        refresh_token=issued["refresh_token"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        clock=fake.clock.now,
        retry_policy=NO_WAIT,
        http_client=own,
        jose_keys=keyring,
    )
    await own.aclose()
    with pytest.raises(ClientClosedError):
        await wise.card_secrets.get_pin(card.token)
    with pytest.raises(ClientClosedError):
        await wise.jose_keys.upload_public_key("PAYLOAD_ENCRYPTION")
    with pytest.raises(ClientClosedError):
        await wise.with_options(timeout=5).jose_keys.wise_encryption_key()


async def test_sca_resume_replays_through_the_client_the_call_was_made_with(
    fake: FakeWise, proxy: FaultProxy, card: FakeCard
) -> None:
    fake.sca_operations.add("cardPinGet")
    async with user_client(fake, proxy) as wise:
        derived = wise.with_options(default_headers={"X-Derived": "yes"})
        with pytest.raises(ScaRequiredError) as info:
            await derived.card_secrets.get_pin(card.token, extra_headers={"X-Debug": "1"})
        fake.approve_ott(info.value.one_time_token)
        pin = await info.value.resume()
        assert pin.reveal_pin() == card.pin
    first, resumed = sent(proxy, "POST", PIN)
    assert first.body == resumed.body  # the identical encrypted request
    assert resumed.headers["x-derived"] == "yes" and resumed.headers["x-debug"] == "1"
    assert isinstance(wise.card_secrets, CardSecrets)


async def test_a_resume_without_a_budget_leaves_the_finished_calls_budget_alone(
    fake: FakeWise, proxy: FaultProxy, card: FakeCard
) -> None:
    fake.sca_operations.add("cardPinGet")
    limiter = InProcessRateLimiter(rate=10, burst=1)  # the replay queues, as under load
    async with user_client(fake, proxy, timeout=None, rate_limiter=limiter) as wise:
        with pytest.raises(ScaRequiredError) as info:
            await wise.card_secrets.get_pin(card.token, timeout=5)
        fake.approve_ott(info.value.one_time_token)
        assert (await info.value.resume()).reveal_pin() == card.pin


@pytest.mark.parametrize("cls", [CardSecrets, JoseKeyring])
def test_every_method_that_reaches_wise_takes_the_call_options(cls: type) -> None:
    """A guard for methods added later: each public coroutine takes ``**options: RequestOptions``."""
    methods = [n for n, m in inspect.getmembers(cls, inspect.iscoroutinefunction) if not n.startswith("_")]
    assert len(methods) >= 4
    for name in methods:
        parameters = inspect.signature(getattr(cls, name)).parameters.values()
        options = [str(p.annotation) for p in parameters if p.kind is p.VAR_KEYWORD]
        assert options == ["Unpack[RequestOptions]"], f"{cls.__name__}.{name}"
