"""Strong customer authentication on transferFund: signing, SCA over API, raise-and-resume, refusals."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from bundle_paths import path_of
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from wise_async import (
    PartnerScaSolver,
    PrivateKeyScaSigner,
    ScaChallenge,
    ScaRejectedError,
    ScaRequiredError,
    ScaSolverError,
)
from wise_async.testing import FakeWise, RecordedRequest

from .helpers import (
    TRANSFER_AMOUNT,
    fund_body,
    new_fake,
    new_transfer,
    personal_client,
    public_pem,
    user_client,
)

START = Decimal("10000.00")
SCA_HEADERS = {"x-2fa-approval", "x-signature"}


@pytest.fixture
def fake() -> FakeWise:
    return new_fake()


def gbp(fake: FakeWise) -> Decimal:
    return fake.balance(fake.personal_profile_id, "GBP")


def assert_identical_replay(first: RecordedRequest, second: RecordedRequest) -> None:
    """The approved retry is the same request plus the SCA headers: same bytes, same ids."""
    assert (first.method, first.host, first.path, first.query) == (
        second.method,
        second.host,
        second.path,
        second.query,
    )
    assert first.body == second.body
    assert {k: v for k, v in first.headers.items() if k not in SCA_HEADERS} == {
        k: v for k, v in second.headers.items() if k not in SCA_HEADERS
    }
    assert "x-2fa-approval" not in first.headers


# --------------------------------------------------------------------------- (a) signing


async def test_private_key_signer_funds_once(fake: FakeWise, rsa_key: rsa.RSAPrivateKey) -> None:
    fake.register_sca_public_key(public_pem(rsa_key))
    async with personal_client(fake, sca_handler=PrivateKeyScaSigner(rsa_key)) as wise:
        transfer = await new_transfer(wise, fake)
        payment = await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
    assert payment.status.value == "COMPLETED"
    assert gbp(fake) == START - TRANSFER_AMOUNT
    assert len(fake.balance_movements) == 1 and fake.balance_movements[0].transfer_id == transfer.id
    challenged, approved = fake.calls("transferFund")
    assert (challenged.status, approved.status) == (403, 200)
    assert_identical_replay(challenged, approved)
    ott = challenged.response_headers["x-2fa-approval"]
    assert approved.headers["x-2fa-approval"] == ott
    signature = base64.b64decode(approved.headers["x-signature"])
    rsa_key.public_key().verify(signature, ott.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert fake.counters["sca_challenged"] == 1 and fake.counters["sca_approved"] == 1


async def test_signer_accepts_a_pem_key(fake: FakeWise, rsa_key: rsa.RSAPrivateKey) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    fake.register_sca_public_key(public_pem(rsa_key))
    async with personal_client(fake, sca_handler=PrivateKeyScaSigner(pem)) as wise:
        transfer = await new_transfer(wise, fake)
        await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
    assert gbp(fake) == START - TRANSFER_AMOUNT


async def test_wrong_key_is_rejected_without_looping(fake: FakeWise, rsa_key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    fake.register_sca_public_key(public_pem(rsa_key))
    async with personal_client(fake, sca_handler=PrivateKeyScaSigner(other)) as wise:
        transfer = await new_transfer(wise, fake)
        with pytest.raises(ScaRejectedError) as caught:
            await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
    assert [r.status for r in fake.calls("transferFund")] == [403, 403]
    assert fake.counters["sca_failures"] == 1
    assert gbp(fake) == START and fake.balance_movements == []
    err = caught.value
    assert err.status_code == 403
    assert err.reason == "You are forbidden to send this request"
    for secret in (fake.calls("transferFund")[1].headers["x-2fa-approval"], err.one_time_token):
        assert secret not in str(err) and secret not in repr(err)


async def test_psd2_refusal_of_signatures_is_raised(fake: FakeWise, rsa_key: rsa.RSAPrivateKey) -> None:
    fake.register_sca_public_key(public_pem(rsa_key))
    fake.sca_signature_allowed = False
    async with personal_client(fake, sca_handler=PrivateKeyScaSigner(rsa_key)) as wise:
        transfer = await new_transfer(wise, fake)
        with pytest.raises(ScaRejectedError):
            await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
    assert len(fake.calls("transferFund")) == 2
    assert fake.counters["sca_challenged"] == 2 and fake.counters["sca_approved"] == 0
    assert gbp(fake) == START


# --------------------------------------------------------------------------- (b) SCA over API


async def test_partner_solver_with_pin(fake: FakeWise) -> None:
    fake.sca_challenges = ["PIN"]
    fake.set_pin("4321")
    asked: list[ScaChallenge] = []

    async def pin(challenge: ScaChallenge) -> str:
        asked.append(challenge)
        return "4321"

    solver = PartnerScaSolver(profile_id=fake.personal_profile_id, pin=pin)
    async with user_client(fake, sca_handler=solver) as wise:
        transfer = await new_transfer(wise, fake)
        payment = await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
    assert payment.status.value == "COMPLETED"
    assert gbp(fake) == START - TRANSFER_AMOUNT
    assert [c.type for c in asked] == ["PIN"] and asked[0].required and not asked[0].passed
    assert fake.counters["sca_passed:PIN"] == 1
    challenged, approved = fake.calls("transferFund")
    assert_identical_replay(challenged, approved)
    ott = challenged.response_headers["x-2fa-approval"]
    assert approved.headers["x-2fa-approval"] == ott and "x-signature" not in approved.headers
    (verify,) = fake.calls("scaPinVerify")
    assert verify.path == path_of("scaPinVerify", profileId=fake.personal_profile_id)
    assert verify.headers["one-time-token"] == ott
    assert verify.json() == {"pin": "4321"}
    assert [r.operation_id for r in fake.requests[-5:]] == [
        "transferFund",
        "ottStatusGet",
        "scaPinVerify",
        "ottStatusGet",
        "transferFund",
    ]


async def test_partner_solver_with_sms_otp(fake: FakeWise) -> None:
    fake.sca_challenges = ["SMS"]
    asked: list[str] = []

    async def otp(challenge: ScaChallenge) -> str:
        asked.append(challenge.type)
        assert fake.counters["otp_sent:SMS"] == 1  # triggered before the user is asked
        return "111111"

    solver = PartnerScaSolver(profile_id=fake.personal_profile_id, otp=otp)
    async with user_client(fake, sca_handler=solver) as wise:
        transfer = await new_transfer(wise, fake)
        await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
    assert asked == ["SMS"]
    assert fake.counters["sca_passed:SMS"] == 1
    assert gbp(fake) == START - TRANSFER_AMOUNT
    assert fake.calls("ottSmsVerify")[0].json() == {"otpCode": "111111"}


async def test_partner_solver_wrong_pin_raises_and_moves_nothing(fake: FakeWise) -> None:
    async def pin(challenge: ScaChallenge) -> str:
        return "0000"

    solver = PartnerScaSolver(profile_id=fake.personal_profile_id, pin=pin)
    async with user_client(fake, sca_handler=solver) as wise:
        transfer = await new_transfer(wise, fake)
        with pytest.raises(ScaSolverError, match="PIN"):
            await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
    assert len(fake.calls("transferFund")) == 1
    assert fake.counters["sca_failures"] == 1
    assert gbp(fake) == START


async def test_partner_solver_without_a_provider_for_the_challenge(fake: FakeWise) -> None:
    fake.sca_challenges = ["FACE_MAP"]

    async def pin(challenge: ScaChallenge) -> str:
        raise AssertionError("not asked")

    solver = PartnerScaSolver(profile_id=fake.personal_profile_id, pin=pin)
    async with user_client(fake, sca_handler=solver) as wise:
        transfer = await new_transfer(wise, fake)
        with pytest.raises(ScaSolverError, match="FACE_MAP"):
            await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
    assert len(fake.calls("transferFund")) == 1
    assert gbp(fake) == START


# --------------------------------------------------------------------------- (c) raise and resume


async def test_default_raises_sca_required_then_resume_after_approval(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        transfer = await new_transfer(wise, fake)
        with pytest.raises(ScaRequiredError) as caught:
            await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
        err = caught.value
        assert not isinstance(err, ScaRejectedError)
        assert err.one_time_token == fake.last_ott
        assert err.action_type == "TRANSFER__FUND"
        assert [(c.type, c.required, c.passed) for c in err.challenges] == [("PIN", True, False)]
        assert err.status_code == 403
        assert err.one_time_token not in str(err)
        assert gbp(fake) == START

        fake.approve_ott(err.one_time_token)
        payment = await err.resume()
    assert payment.status.value == "COMPLETED"
    assert gbp(fake) == START - TRANSFER_AMOUNT
    assert len(fake.balance_movements) == 1
    challenged, approved = fake.calls("transferFund")
    assert (challenged.status, approved.status) == (403, 200)
    assert_identical_replay(challenged, approved)


async def test_resume_after_clearing_the_pin_with_raw_calls(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        transfer = await new_transfer(wise, fake)
        with pytest.raises(ScaRequiredError) as caught:
            await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
        ott = caught.value.one_time_token
        headers = {"One-Time-Token": ott}
        verify = await wise.http_client.post(
            path_of("scaPinVerify", profileId=fake.personal_profile_id), headers=headers, json={"pin": "1234"}
        )
        assert verify.status_code == 200
        payment = await caught.value.resume()
    assert payment.status.value == "COMPLETED"
    assert gbp(fake) == START - TRANSFER_AMOUNT
    assert [r.status for r in fake.calls("transferFund")] == [403, 200]


async def test_resume_with_a_signature(fake: FakeWise, rsa_key: rsa.RSAPrivateKey) -> None:
    fake.register_sca_public_key(public_pem(rsa_key))
    async with personal_client(fake) as wise:
        transfer = await new_transfer(wise, fake)
        with pytest.raises(ScaRequiredError) as caught:
            await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
        signature = PrivateKeyScaSigner(rsa_key).sign(caught.value.one_time_token)
        await caught.value.resume(signature=signature)
    assert gbp(fake) == START - TRANSFER_AMOUNT
    challenged, approved = fake.calls("transferFund")
    assert approved.headers["x-signature"] == signature
    assert_identical_replay(challenged, approved)


async def test_resume_without_clearing_is_rejected_once(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        transfer = await new_transfer(wise, fake)
        with pytest.raises(ScaRequiredError) as caught:
            await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
        with pytest.raises(ScaRejectedError):
            await caught.value.resume()
    assert [r.status for r in fake.calls("transferFund")] == [403, 403]
    assert gbp(fake) == START


async def test_resume_after_the_token_was_refreshed(fake: FakeWise) -> None:
    fake.ott_validity = 24 * 3600
    async with user_client(fake) as wise:
        transfer = await new_transfer(wise, fake)
        with pytest.raises(ScaRequiredError) as caught:
            await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
        old = wise.user_tokens
        fake.clock.advance(13 * 3600)  # the user took their time: the access token expired meanwhile
        fake.approve_ott(caught.value.one_time_token)
        await caught.value.resume()
        new = wise.user_tokens
    assert fake.counters["refresh"] == 1
    assert old is not None and new is not None
    challenged, approved = fake.calls("transferFund")
    assert challenged.headers["authorization"] == f"Bearer {old.access_token}"
    assert approved.headers["authorization"] == f"Bearer {new.access_token}"
    assert approved.status == 200
    assert gbp(fake) == START - TRANSFER_AMOUNT
