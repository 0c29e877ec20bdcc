"""No secret leaks: every JOSE and card flow run with DEBUG logging on for every logger, then the log,
the reprs and the error messages are searched for PAN, CVV, PINs, device fingerprints, CEKs and keys."""

from __future__ import annotations

import base64
import logging
import re
import secrets as std_secrets
from typing import Any

import pytest

from wise_async import PartnerScaSolver, ScaChallenge
from wise_async.jose import JoseKeyring, JweDecryptionError
from wise_async.testing import FakeJose, FakeWise

from .conftest import ClientKeys, make_client

PAN = "5169876543210987"
CVV = "482"
CARD_PIN = "9315"
SCA_PIN = "5731"
PRESET_PIN = "6042"
FINGERPRINT = "fp-7c1e2b9a-secret-device"


def _forms(data: bytes) -> list[str]:
    return [
        data.hex(),
        base64.b64encode(data).decode(),
        base64.urlsafe_b64encode(data).rstrip(b"=").decode(),
    ]


async def test_no_secret_reaches_debug_logs_reprs_or_errors(
    fake: FakeWise,
    jose: FakeJose,
    keyring: JoseKeyring,
    registered: None,
    client_keys: ClientKeys,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ceks: list[bytes] = []
    original = std_secrets.token_bytes

    def recording_token_bytes(n: int | None = None) -> bytes:
        value = original(n)
        ceks.append(value)
        return value

    monkeypatch.setattr(std_secrets, "token_bytes", recording_token_bytes)  # what _jose draws CEKs from
    caplog.set_level(logging.DEBUG)  # root: wise_async, httpx, httpcore, everything

    fake.set_pin(SCA_PIN)
    fake.sca_operations |= {"profileList", "cardSensitiveDetailsGet"}
    fake.sca_challenges = ["PIN", "PARTNER_DEVICE_FINGERPRINT"]
    card = jose.add_card(pan=PAN, cvv=CVV, pin=CARD_PIN)
    order = jose.add_card_order()

    async def pin(challenge: ScaChallenge) -> str:
        return SCA_PIN

    async def device(challenge: ScaChallenge) -> str:
        return FINGERPRINT

    solver = PartnerScaSolver(profile_id=fake.personal_profile_id, pin=pin, device_fingerprint=device)
    seen: list[Any] = []
    async with make_client(fake, jose_keys=keyring, sca_handler=solver) as wise:
        await wise.http_client.post(
            "/v1/user/partner-device-fingerprints", json={"deviceFingerprint": FINGERPRINT}
        )
        await wise.profiles.list()
        details = await wise.card_secrets.get_details(card.token)
        card_pin = await wise.card_secrets.get_pin(card.token)
        await wise.card_secrets.preset_pin(order.order_id, PRESET_PIN)
        for method in ("jwe", "jws", "jws+jwe"):
            path = {"jwe": "jwe", "jws": "jws", "jws+jwe": "jwsjwe"}[method]
            await wise.http_client.post(
                f"/v1/auth/jose/playground/{path}",
                json={"message": FINGERPRINT},
                headers={"X-TW-JOSE-Method": method},
            )
        fake.sca_operations.discard("cardSensitiveDetailsGet")  # tamper with the card answer only
        jose.response_filter = lambda compact: compact[:-4] + "AAAA"
        with pytest.raises(JweDecryptionError) as decrypt_error:
            await wise.card_secrets.get_details(card.token)
        seen += [details, card_pin, wise.card_secrets, wise.jose_keys, decrypt_error.value, wise]
        seen += [await wise.card_secrets.encryption_key(), await wise.jose_keys.wise_encryption_key()]
    seen += [keyring.client_key, keyring.signing_key, jose, card, order]

    assert (
        details.reveal_pan() == PAN and card_pin.reveal_pin() == CARD_PIN and order.preset_pin == PRESET_PIN
    )
    # profileList and card details: two SCA rounds, each clearing both factors over JWE
    assert (
        fake.counters["sca_passed:PIN"] == 2 and fake.counters["sca_passed:PARTNER_DEVICE_FINGERPRINT"] == 2
    )
    assert len(ceks) >= 8

    assert caplog.records, "the flows should log at DEBUG"
    texts = [caplog.text, *(repr(o) for o in seen), *(str(o) for o in seen)]
    private_pem = client_keys.encryption.export_private_pem().decode()
    forbidden = [PAN, PAN[:6] + PAN[-4:], CVV, CARD_PIN, SCA_PIN, PRESET_PIN, FINGERPRINT]
    forbidden += [line for line in private_pem.splitlines()[1:4]]
    forbidden += [line for line in client_keys.signing.export_private_pem().decode().splitlines()[1:3]]
    for cek in ceks:
        forbidden += _forms(cek)
    for text in texts:
        for secret in forbidden:
            # as a whole token: a 3-digit CVV may occur by chance inside a random UUID or hex id
            leaked = re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", text)
            assert leaked is None, f"secret leaked into: {text[:120]!r}"
