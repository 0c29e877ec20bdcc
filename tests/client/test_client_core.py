"""WiseClient itself: lifecycle, environments and hosts, a caller's own httpx client, timeouts."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from bundle_paths import path_of
from wise_api.models import (
    CardOrderPresetPinBody,
    CardPinGetBody,
    CardSensitiveDetailsGetBody,
    PushProvisioningApplePayGetBody,
    PushProvisioningGooglePayGetBody,
)

from wise_async import (
    PRODUCTION,
    SANDBOX,
    APIConnectionError,
    APITimeoutError,
    RetryPolicy,
    WiseClient,
)
from wise_async.testing import FakeWise

from .helpers import (
    PRODUCTION_HOST,
    SANDBOX_HOST,
    StubTransport,
    bearer_of,
    new_fake,
    personal_client,
    send_ignoring_answer,
)

NO_WAIT = RetryPolicy(initial_delay=0)


@pytest.fixture
def fake() -> FakeWise:
    return new_fake()


# --------------------------------------------------------------------------- lifecycle


async def test_async_context_manager_closes_the_stack() -> None:
    stub = StubTransport(lambda request: httpx.Response(200, json=[]))
    async with WiseClient(personal_token="t0ken", transport=stub) as wise:
        assert isinstance(wise, WiseClient)
        assert await wise.profiles.list() == []
        assert not wise.http_client.is_closed
    assert wise.http_client.is_closed
    assert stub.closed  # through RetryingTransport down to the real transport
    with pytest.raises(RuntimeError):
        await wise.profiles.list()
    assert len(stub.requests) == 1


async def test_aclose() -> None:
    stub = StubTransport(lambda request: httpx.Response(200, json=[]))
    wise = WiseClient(personal_token="t0ken", transport=stub)
    await wise.aclose()
    assert wise.http_client.is_closed
    assert stub.closed


def test_repr_hides_credentials() -> None:
    wise = WiseClient(personal_token="super-secret-token", client_id="cid", client_secret="csecret")
    text = repr(wise)
    assert "super-secret-token" not in text and "csecret" not in text
    assert "sandbox" in text


# --------------------------------------------------------------------------- environments


async def test_sandbox_is_the_default(fake: FakeWise) -> None:
    async with personal_client(fake) as wise:
        assert wise.environment == SANDBOX
        await wise.profiles.list()
    (record,) = fake.requests
    assert record.host == SANDBOX_HOST
    assert record.headers["host"] == SANDBOX_HOST


async def test_production(fake: FakeWise) -> None:
    async with personal_client(fake, environment="production") as wise:
        assert wise.environment == PRODUCTION
        await wise.profiles.list()
    assert [r.host for r in fake.requests] == [PRODUCTION_HOST]


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValueError, match="environment"):
        WiseClient(personal_token="t", environment="staging")  # type: ignore[arg-type]


async def test_custom_base_url(fake: FakeWise) -> None:
    async with personal_client(fake, base_url="http://localhost:8080/") as wise:
        assert wise.environment.name == "custom"
        profiles = await wise.profiles.list()
    assert len(profiles) == 2
    (record,) = fake.requests
    assert (record.host, record.path) == ("localhost", path_of("profileList"))


class PrefixStrippingTransport(httpx.AsyncBaseTransport):
    """A reverse proxy mounted at ``prefix``: records what arrived, forwards the rest to FakeWise."""

    def __init__(self, fake: FakeWise, prefix: str) -> None:
        self.inner = fake.transport()
        self.prefix = prefix
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        assert request.url.path.startswith(self.prefix + "/")
        request.url = request.url.copy_with(path=request.url.path[len(self.prefix) :])
        return await self.inner.handle_async_request(request)


async def test_base_url_with_path_prefix_still_identifies_operations(fake: FakeWise) -> None:
    proxy = PrefixStrippingTransport(fake, "/wise")
    user = fake.issue_user_token(client_id="client-id")
    async with WiseClient(
        access_token=user["access_token"],
        refresh_token=user["refresh_token"],
        client_id="client-id",
        client_secret="client-secret",
        base_url="https://proxy.example.com/wise/",
        transport=proxy,
        clock=fake.clock.now,
    ) as wise:
        assert len(await wise.profiles.list()) == 2
        # a client-credentials-only operation is recognised under the prefix: it gets the CC token
        await wise.user_security.pin_delete(fake.user_id)
    assert proxy.paths == [
        "/wise" + path_of("profileList"),
        "/wise/oauth/token",
        "/wise" + path_of("userSecurityPinDelete", userId=fake.user_id),
    ]
    profiles, token, pin = fake.requests
    assert bearer_of(profiles) == user["access_token"]
    assert token.headers["authorization"].startswith("Basic ")
    assert bearer_of(pin) != user["access_token"]
    assert pin.status == 204
    assert {r.host for r in fake.requests} == {"proxy.example.com"}


# --------------------------------------------------------------------------- twcard host

TWCARD_CALLS: dict[str, Any] = {
    "cardEncryptionKeyGet": lambda w: w.card_sensitive_details.card_encryption_key_get(),
    "cardSensitiveDetailsGet": lambda w: w.card_sensitive_details.get(
        body=CardSensitiveDetailsGetBody(key_version=1, encrypted_payload="jwe"),
        x_tw_twcard_card_token=uuid.uuid4(),
    ),
    "cardPinGet": lambda w: w.card_sensitive_details.card_pin_get(
        body=CardPinGetBody(key_version=1, encrypted_payload="jwe"), x_tw_twcard_card_token=uuid.uuid4()
    ),
    "cardOrderPresetPin": lambda w: w.card_orders.preset_pin(
        body=CardOrderPresetPinBody(key_version=1, encrypted_payload="jwe"), x_tw_twcard_order_id="42"
    ),
    "pushProvisioningGooglePayGet": lambda w: w.digital_wallets.push_provisioning_google_pay_get(
        body=PushProvisioningGooglePayGetBody(client_device_id="d", client_wallet_account_id="a"),
        x_tw_twcard_card_token=uuid.uuid4(),
    ),
    "pushProvisioningApplePayGet": lambda w: w.digital_wallets.push_provisioning_apple_pay_get(
        body=PushProvisioningApplePayGetBody(certificates=["c"], nonce="n", nonce_signature="s"),
        x_tw_twcard_card_token=uuid.uuid4(),
    ),
}


@pytest.mark.parametrize("operation_id", sorted(TWCARD_CALLS))
@pytest.mark.parametrize(
    ("environment", "host"),
    [("sandbox", "twcard.wise-sandbox.com"), ("production", "twcard.wise.com")],
)
async def test_twcard_operations_go_to_the_twcard_host(
    fake: FakeWise, operation_id: str, environment: str, host: str
) -> None:
    async with personal_client(fake, environment=environment) as wise:
        await send_ignoring_answer(TWCARD_CALLS[operation_id](wise))
        twcard = [r for r in fake.requests if r.path.startswith("/twcard-data/")]
        fake.clear_requests()
        await wise.profiles.list()  # and ordinary operations stay on the API host
    assert len(twcard) == 1 and twcard[0].operation_id in (None, operation_id)
    assert twcard[0].host == host
    assert twcard[0].headers["host"] == host  # the Host header must follow the URL
    assert twcard[0].headers["authorization"].startswith("Bearer ")
    (api,) = fake.requests
    api_host = {"sandbox": SANDBOX_HOST, "production": PRODUCTION_HOST}[environment]
    assert api.host == api.headers["host"] == api_host


async def test_twcard_with_custom_base_urls(fake: FakeWise) -> None:
    async with personal_client(fake, base_url="http://localhost:8080") as wise:
        await send_ignoring_answer(TWCARD_CALLS["cardEncryptionKeyGet"](wise))
    async with personal_client(
        fake,
        base_url="http://localhost:8080",
        twcard_base_url="http://twcard.local:9090",
        allow_insecure_http=True,
    ) as wise:
        await send_ignoring_answer(TWCARD_CALLS["cardEncryptionKeyGet"](wise))
    async with personal_client(fake, twcard_base_url="https://twcard-stub.local") as wise:
        await send_ignoring_answer(TWCARD_CALLS["cardEncryptionKeyGet"](wise))
    twcard = [r for r in fake.requests if r.path.startswith("/twcard-data/")]
    assert [(r.host, r.headers["host"]) for r in twcard] == [
        ("localhost", "localhost:8080"),
        ("twcard.local", "twcard.local:9090"),
        ("twcard-stub.local", "twcard-stub.local"),
    ]


async def test_twcard_base_url_path_prefix_replaces_the_api_prefix(fake: FakeWise) -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"version": 1, "key": "k"})

    async with WiseClient(
        personal_token="t0ken",
        base_url="https://proxy.example.com/wise",
        twcard_base_url="https://proxy.example.com/twcard/",
        transport=StubTransport(handler),
    ) as wise:
        await wise.card_sensitive_details.card_encryption_key_get()
    assert [str(u) for u in seen] == [
        "https://proxy.example.com/twcard/twcard-data/v1/clientSideEncryption/fetchEncryptingKey"
    ]


# --------------------------------------------------------------------------- caller's httpx client


async def test_user_supplied_http_client_gets_auth_and_retries(fake: FakeWise) -> None:
    token = fake.add_personal_token()
    fake.faults.server_error(503, operation="profileList")
    own = httpx.AsyncClient(transport=fake.transport(), headers={"X-App": "mine"})
    async with WiseClient(personal_token=token, http_client=own, retry_policy=NO_WAIT) as wise:
        assert wise.http_client is own
        profiles = await wise.profiles.list()
    assert len(profiles) == 2
    assert [r.status for r in fake.requests] == [503, 200]
    for record in fake.requests:
        assert bearer_of(record) == token
        assert record.headers["x-app"] == "mine"
        assert record.host == SANDBOX_HOST
    assert not own.is_closed  # the caller's client stays the caller's to close
    await own.aclose()


# --------------------------------------------------------------------------- timeouts


async def test_timeout_on_get_is_retried_then_raised_as_api_timeout_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    stub = StubTransport(handler)
    async with WiseClient(personal_token="t0ken", transport=stub, retry_policy=NO_WAIT) as wise:
        with pytest.raises(APITimeoutError) as caught:
            await wise.profiles.list()
    assert isinstance(caught.value, APIConnectionError)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert caught.value.request is not None and caught.value.request.url.path == path_of("profileList")
    assert len(stub.requests) == 3  # max_retries=2


async def test_timeout_on_unkeyed_post_is_not_retried() -> None:
    from wise_api.models import QuoteCreateBody

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.WriteTimeout("timed out", request=request)

    stub = StubTransport(handler)
    async with WiseClient(personal_token="t0ken", transport=stub, retry_policy=NO_WAIT) as wise:
        with pytest.raises(APITimeoutError):
            await wise.quotes.create(
                1,
                body=QuoteCreateBody(
                    source_currency="GBP", target_currency="EUR", source_amount=Decimal("1.0")
                ),
            )
    assert len(stub.requests) == 1
