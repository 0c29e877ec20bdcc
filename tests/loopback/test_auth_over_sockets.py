"""Auth over a real connection: 401 refresh and replay, client credentials, SCA — bodies arrive streamed."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from bundle_paths import path_of
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from wise_api.models import QuoteCreateBody, TransferFundBody

from wise_async import (
    AuthenticationError,
    PrivateKeyScaSigner,
    ScaRequiredError,
    UserTokens,
    WiseClient,
)
from wise_async.testing import FakeWise

from .conftest import CLIENT_ID, CLIENT_SECRET, NO_WAIT, personal_client, user_client
from .servers import FaultProxy, answer

CONCURRENT = 50


def _grants(fake: FakeWise, grant_type: str) -> int:
    return sum(
        1
        for call in fake.calls("oauthTokenCreate")
        if call.status == 200 and f"grant_type={grant_type}" in call.body.decode()
    )


async def test_a_token_the_server_expired_is_refreshed_once_and_the_call_succeeds(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    async with user_client(fake, proxy) as wise:
        fake.revoke_token(wise.user_tokens.access_token)  # type: ignore[union-attr]
        profiles = await wise.profiles.list()
    assert profiles
    assert _grants(fake, "refresh_token") == 1
    assert [c.status for c in fake.calls("profileList")] == [401, 200]


async def test_a_token_provider_two_clients_share_refreshes_through_the_calling_one(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    """The refresh goes through the client whose call needs it: another client holding the same
    provider may be closed by then."""
    issued = fake.issue_user_token(client_id=CLIENT_ID)
    tokens = UserTokens(issued["access_token"], issued["refresh_token"], clock=fake.clock.now)
    options: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "clock": fake.clock.now,
        "base_url": proxy.url,
        "retry_policy": NO_WAIT,
        "token_provider": tokens,
    }
    async with WiseClient(**options) as first:
        async with WiseClient(**options) as second:
            assert await second.profiles.list()
        fake.revoke_token(issued["access_token"])
        assert await first.profiles.list()
    assert _grants(fake, "refresh_token") == 1
    assert [c.status for c in fake.calls("profileList")] == [200, 401, 200]


async def test_concurrent_calls_on_an_expired_token_share_one_refresh(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    refreshed: list[str] = []
    async with user_client(fake, proxy, on_token_refresh=lambda t: refreshed.append(t.access_token)) as wise:
        fake.revoke_token(wise.user_tokens.access_token)  # type: ignore[union-attr]
        results: list[object] = []

        async def call() -> None:
            results.append(await wise.profiles.list())

        async with anyio.create_task_group() as group:
            for _ in range(CONCURRENT):
                group.start_soon(call)
    assert len(results) == CONCURRENT and all(results)
    assert _grants(fake, "refresh_token") == 1 and len(refreshed) == 1
    print(f"\n{CONCURRENT} concurrent calls on a server-expired token: {len(refreshed)} refresh, 0 failures")


async def test_client_credentials_token_rejected_by_the_server_is_fetched_again_once(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    async with WiseClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=proxy.url, retry_policy=NO_WAIT
    ) as wise:
        await wise.user_security.device_fingerprint_list(fake.user_id)  # client-credentials only
        assert _grants(fake, "client_credentials") == 1
        for call in fake.calls("userSecurityDeviceFingerprintList"):
            fake.revoke_token(call.headers["authorization"].split(" ", 1)[1])
        results: list[object] = []

        async def call() -> None:
            results.append(await wise.user_security.device_fingerprint_list(fake.user_id))

        async with anyio.create_task_group() as group:
            for _ in range(CONCURRENT):
                group.start_soon(call)
    assert len(results) == CONCURRENT
    assert _grants(fake, "client_credentials") == 2  # the first one, then one for all 50 rejections


async def test_an_unknown_personal_token_is_an_authentication_error_with_wises_message(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    async with WiseClient(personal_token="not-a-token-wise-knows", base_url=proxy.url) as wise:
        with pytest.raises(AuthenticationError) as caught:
            await wise.profiles.list()
    assert caught.value.status_code == 401
    assert caught.value.errors and caught.value.errors[0].code == "invalid_token"
    assert "not-a-token-wise-knows" not in str(caught.value) + repr(caught.value)
    assert "not-a-token-wise-knows" not in repr(caught.value.request.headers)  # type: ignore[union-attr]
    assert proxy.count("GET", path_of("profileList")) == 1  # a personal token cannot be refreshed: no replay


async def test_sca_challenge_read_over_the_wire_and_cleared_by_signing(
    fake: FakeWise, proxy: FaultProxy, rsa_key: rsa.RSAPrivateKey
) -> None:
    fake.register_sca_public_key(
        rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    async with personal_client(fake, proxy, sca_handler=PrivateKeyScaSigner(rsa_key)) as wise:
        transfer_id = await _new_transfer(wise, fake)
        payment = await wise.transfers.fund(fake.personal_profile_id, transfer_id, body=_fund())
    assert payment is not None
    statuses = [c.status for c in fake.calls("transferFund")]
    assert statuses == [403, 200]


async def test_default_sca_error_carries_the_body_and_resumes(fake: FakeWise, proxy: FaultProxy) -> None:
    async with personal_client(fake, proxy) as wise:
        transfer_id = await _new_transfer(wise, fake)
        with pytest.raises(ScaRequiredError) as caught:
            await wise.transfers.fund(fake.personal_profile_id, transfer_id, body=_fund())
        error = caught.value
        assert error.body and error.one_time_token
        assert error.one_time_token not in str(error) + repr(error) + repr(error.headers)
        fake.approve_ott(error.one_time_token)
        payment = await error.resume()
    assert payment is not None
    assert [c.status for c in fake.calls("transferFund")] == [403, 200]


async def test_an_sca_side_request_challenged_again_does_not_start_sca_again(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    """The OTT status call itself answered 403 + x-2fa-approval: surfaced, never recursed into."""
    proxy.add(
        answer(403, b"{}", [("x-2fa-approval", "another-ott"), ("content-type", "application/json")]),
        path_prefix=path_of("ottStatusGet"),
        times=None,
    )
    async with personal_client(fake, proxy) as wise:
        transfer_id = await _new_transfer(wise, fake)
        with pytest.raises(ScaRequiredError) as caught:
            await wise.transfers.fund(fake.personal_profile_id, transfer_id, body=_fund())
    assert caught.value.challenges == []  # the status could not be read; the OTT still lets the app resume
    assert proxy.count("GET", path_of("ottStatusGet")) == 1


async def test_a_derived_clients_sca_side_requests_carry_its_defaults(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    """The OTT status request the SCA handler makes goes out with the calling client's default headers."""
    async with personal_client(fake, proxy) as wise:
        transfer_id = await _new_transfer(wise, fake)
        tenant = wise.with_options(default_headers={"X-Tenant": "payouts"})
        with pytest.raises(ScaRequiredError) as caught:
            await tenant.transfers.fund(fake.personal_profile_id, transfer_id, body=_fund())
    assert caught.value.challenges  # the status was read
    by_path = {e.path.split("?")[0]: e.headers for e in proxy.exchanges}
    assert by_path[path_of("ottStatusGet")].get("x-tenant") == "payouts"
    fund = [e for e in proxy.exchanges if e.method == "POST" and e.path.endswith("/payments")]
    assert fund and fund[0].headers.get("x-tenant") == "payouts"


async def _new_transfer(wise: WiseClient, fake: FakeWise) -> int:
    profile = fake.personal_profile_id
    quote = await wise.quotes.create(
        profile,
        body=QuoteCreateBody.from_dict(
            {"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": 100}
        ),
    )
    recipient = await wise.http_client.post(
        path_of("recipientCreate"),
        json={
            "currency": "EUR",
            "type": "iban",
            "profile": profile,
            "accountHolderName": "Bob",
            "details": {"legalType": "PRIVATE", "iban": "DE89370400440532013000"},
        },
    )
    response = await wise.http_client.post(
        path_of("transferCreate"), json={"targetAccount": recipient.json()["id"], "quoteUuid": str(quote.id)}
    )
    return int(response.json()["id"])


def _fund() -> TransferFundBody:
    return TransferFundBody.from_dict({"type": "BALANCE"})
