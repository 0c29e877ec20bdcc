"""Correlation ids on every call, and logs that never carry a credential."""

from __future__ import annotations

import logging
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wise_async import OAuthTokens, PartnerScaSolver, PrivateKeyScaSigner, RetryPolicy, ScaChallenge
from wise_async.testing import FakeWise

from .helpers import fund_body, new_fake, new_transfer, public_pem, user_client


@pytest.fixture
def fake() -> FakeWise:
    return new_fake()


async def test_every_call_gets_its_own_correlation_id_echoed_back(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        first = await wise.profiles.with_raw_response.list()
        second = await wise.profiles.with_raw_response.list()
    sent = [r.headers["x-external-correlation-id"] for r in fake.requests]
    assert [first.correlation_id, second.correlation_id] == sent
    assert sent[0] != sent[1]
    assert all(str(uuid.UUID(value)) == value for value in sent)
    assert first.headers["x-external-correlation-id"] == sent[0]  # Wise echoes it


async def test_correlation_id_can_be_chosen_by_the_caller(fake: FakeWise) -> None:
    mine = uuid.uuid4()
    async with user_client(fake) as wise:
        raw = await wise.profiles.with_raw_response.list(x_external_correlation_id=mine)
        await wise.profiles.list(x_external_correlation_id=mine)
    assert raw.correlation_id == str(mine)
    assert raw.headers["x-external-correlation-id"] == str(mine)
    assert [r.headers["x-external-correlation-id"] for r in fake.requests] == [str(mine)] * 2


async def test_logs_carry_no_credentials(
    fake: FakeWise, rsa_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="wise_async")
    fake.register_sca_public_key(public_pem(rsa_key))
    fake.set_pin("9876")

    async def pin(challenge: ScaChallenge) -> str:
        return "9876"

    no_wait = RetryPolicy(initial_delay=0)
    # 1. OAuth user: the token expires at Wise (401 -> refresh -> replay), then SCA over API with a PIN
    pairs: list[OAuthTokens | None] = []
    solver = PartnerScaSolver(profile_id=fake.personal_profile_id, pin=pin)
    async with user_client(fake, know_expiry=False, sca_handler=solver, retry_policy=no_wait) as wise:
        pairs.append(wise.user_tokens)
        transfer = await new_transfer(wise, fake)
        fake.clock.advance(12 * 3600 + 1)
        fake.faults.rate_limit(operation="transferFund")
        await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
        pairs.append(wise.user_tokens)
    # 2. the same with a signed OTT
    async with user_client(fake, sca_handler=PrivateKeyScaSigner(rsa_key), retry_policy=no_wait) as wise:
        pairs.append(wise.user_tokens)
        transfer = await new_transfer(wise, fake)
        await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())

    assert fake.counters["refresh"] == 1 and fake.counters["sca_approved"] == 2
    messages = [record.getMessage() for record in caplog.records if record.name.startswith("wise_async")]
    text = "\n".join([*messages, caplog.text])
    # the flows did log (so this test can fail): refresh, SCA replay, retry
    assert any("401" in m and "refresh" in m for m in messages)
    assert sum("SCA approved" in m for m in messages) == 2
    assert any("HTTP 429" in m for m in messages)

    secrets: set[str] = {"9876"}
    for pair in pairs:
        assert pair is not None and pair.refresh_token is not None
        secrets.update((pair.access_token, pair.refresh_token))
    for record in fake.requests:
        for name in ("x-2fa-approval", "x-signature", "one-time-token"):
            if name in record.headers:
                secrets.add(record.headers[name])
        if "x-2fa-approval" in record.response_headers:
            secrets.add(record.response_headers["x-2fa-approval"])
        authorization = record.headers.get("authorization", "")
        if authorization.startswith("Bearer "):
            secrets.add(authorization.removeprefix("Bearer "))
    assert len(secrets) > 8
    for secret in secrets:
        assert secret not in text, secret
