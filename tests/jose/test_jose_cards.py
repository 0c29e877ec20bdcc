"""``wise.card_secrets`` against FakeWise's twcard endpoints: both key wraps, both answer forms, key
caching and rotation, SCA, device-built payloads, and rejection of tampered answers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from wise_async import NotFoundError, PartnerScaSolver, PermissionDeniedError, ScaChallenge, ScaRequiredError
from wise_async.cards import (
    CardEncryptionKey,
    CardSecrets,
    RelayedCardResponse,
    build_card_encrypted_payload,
)
from wise_async.jose import CardPin, JoseError, JoseKeyError, JweDecryptionError, SensitiveCardDetails
from wise_async.testing import FakeJose, FakeWise
from wise_async.testing._fake_jose import jwe_decrypt_rsa

from .conftest import WiseKeys, make_client

PAN = "4396910000012345"
CVV = "739"
PIN = "8264"


def _shows(secret: str, text: str) -> bool:
    """``secret`` appears as a whole token (a short PIN or CVV may occur inside a random UUID nonce)."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", text) is not None


def header_alg(compact: str) -> str:
    import base64

    segment = compact.split(".", 1)[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))["alg"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("form", ["jwe", "jwe-string", "plain"])
async def test_card_details_in_every_answer_form(
    wise: Any, fake: FakeWise, jose: FakeJose, form: str
) -> None:
    jose.card_response_form = form  # type: ignore[assignment]
    card = jose.add_card(pan=PAN, cvv=CVV, expiry_date="10/31", cardholder_name="Ada Lovelace")
    details = await wise.card_secrets.get_details(card.token)
    assert isinstance(details, SensitiveCardDetails)
    assert (details.reveal_pan(), details.reveal_cvv()) == (PAN, CVV)
    assert details.last4 == "2345" and details.expiry_date == "10/31"
    for text in (repr(details), str(details), f"{details}"):
        assert not any(_shows(secret, text) for secret in (PAN, CVV, "Ada", "10/31")), text


async def test_card_request_follows_the_twcard_protocol(
    wise: Any, fake: FakeWise, jose: FakeJose, wise_keys: WiseKeys
) -> None:
    card = jose.add_card()
    await wise.card_secrets.get_details(card.token)
    sent = fake.calls("cardSensitiveDetailsGet")[0]
    assert sent.host == "twcard.wise-sandbox.com"
    assert sent.headers["x-tw-twcard-card-token"] == card.token
    assert fake.calls("cardEncryptionKeyGet")[0].host == "twcard.wise-sandbox.com"
    body = json.loads(sent.body)
    assert set(body) == {"keyVersion", "encryptedPayload"} and body["keyVersion"] == 1
    compact = body["encryptedPayload"]
    assert header_alg(compact) == "RSA1_5"  # Wise's card guide
    plaintext, _, header = jwe_decrypt_rsa(compact, wise_keys.card, algorithms={"RSA1_5"})
    assert header["enc"] == "A256GCM" and "nonce" in json.loads(plaintext)


@pytest.mark.parametrize("where", ["client", "call"])
async def test_rsa_oaep_256_is_selectable(wise: Any, fake: FakeWise, jose: FakeJose, where: str) -> None:
    card = jose.add_card()
    if where == "client":
        wise.card_secrets.alg = "RSA-OAEP-256"
        pin = await wise.card_secrets.get_pin(card.token)
    else:
        pin = await wise.card_secrets.get_pin(card.token, alg="RSA-OAEP-256")
    assert isinstance(pin, CardPin) and pin.reveal_pin() == PIN and not _shows(PIN, repr(pin))
    compact = json.loads(fake.calls("cardPinGet")[0].body)["encryptedPayload"]
    assert header_alg(compact) == "RSA-OAEP-256"
    assert fake.counters["card_alg:RSA-OAEP-256"] == 1
    with pytest.raises(JoseKeyError):
        await wise.card_secrets.get_pin(card.token, alg="A256KW")


async def test_preset_pin_for_a_card_order(wise: Any, fake: FakeWise, jose: FakeJose) -> None:
    order = jose.add_card_order()
    assert await wise.card_secrets.preset_pin(order.order_id, "2468") == order.order_id
    assert order.preset_pin == "2468"
    sent = fake.calls("cardOrderPresetPin")[0]
    assert sent.headers["x-tw-twcard-order-id"] == order.order_id and b"2468" not in sent.body
    for bad in ("12a4", "123", "１２３４", "1234567"):
        with pytest.raises(ValueError) as info:
            await wise.card_secrets.preset_pin(order.order_id, bad)
        assert bad not in str(info.value)


async def test_key_is_cached_by_version_and_refetched_after_rotation(
    wise: Any, fake: FakeWise, jose: FakeJose
) -> None:
    card = jose.add_card()
    await wise.card_secrets.get_details(card.token)
    await wise.card_secrets.get_pin(card.token)
    assert fake.counters["cardEncryptionKeyGet"] == 1
    key = await wise.card_secrets.encryption_key()
    assert isinstance(key, CardEncryptionKey) and key.version == 1 and "material" not in repr(key)

    jose.rotate_card_key()
    details = await wise.card_secrets.get_details(card.token)  # 400 for version 1, refetch, resend
    assert details.reveal_pan() == card.pan
    assert fake.counters["cardEncryptionKeyGet"] == 2 and fake.counters["card:stale_key"] == 1
    assert [json.loads(r.body)["keyVersion"] for r in fake.calls("cardSensitiveDetailsGet")] == [1, 1, 2]
    assert repr(wise.card_secrets) == "CardSecrets(alg='RSA1_5', key_versions=[1, 2])"


async def test_card_errors_are_status_errors(wise: Any, fake: FakeWise, jose: FakeJose) -> None:
    inactive = jose.add_card(status="BLOCKED")
    with pytest.raises(PermissionDeniedError):
        await wise.card_secrets.get_details(inactive.token)
    frozen = jose.add_card(status="FROZEN")
    assert (await wise.card_secrets.get_pin(frozen.token)).reveal_pin() == PIN
    with pytest.raises(NotFoundError):
        await wise.card_secrets.get_details("no-such-card")
    with pytest.raises(ValueError):
        await wise.card_secrets.get_details("bad\r\ntoken")
    assert fake.counters["cardEncryptionKeyGet"] == 1  # a 403/404 is not a key problem


async def test_tampered_card_answer_is_rejected(wise: Any, jose: FakeJose) -> None:
    card = jose.add_card()
    jose.response_filter = lambda compact: (
        compact[:-6] + ("AAAAAA" if not compact.endswith("AAAAAA") else "BBBBBB")
    )
    with pytest.raises(JweDecryptionError):
        await wise.card_secrets.get_details(card.token)


async def test_sca_protected_card_details_with_partner_solver(fake: FakeWise, jose: FakeJose) -> None:
    fake.sca_operations |= {"cardSensitiveDetailsGet", "cardPinGet"}
    card = jose.add_card()

    async def pin(challenge: ScaChallenge) -> str:
        return "1234"

    solver = PartnerScaSolver(profile_id=fake.personal_profile_id, pin=pin)
    async with make_client(fake, sca_handler=solver) as wise:
        details = await wise.card_secrets.get_details(card.token)
    assert details.reveal_pan() == card.pan
    first, replay = fake.calls("cardSensitiveDetailsGet")
    assert first.status == 403 and replay.status == 200 and first.body == replay.body


async def test_sca_required_error_resumes_the_same_encrypted_request(fake: FakeWise, jose: FakeJose) -> None:
    fake.sca_operations.add("cardPinGet")
    card = jose.add_card()
    async with make_client(fake) as wise:
        with pytest.raises(ScaRequiredError) as info:
            await wise.card_secrets.get_pin(card.token)
        fake.approve_ott(info.value.one_time_token)
        pin = await info.value.resume()
    assert isinstance(pin, CardPin) and pin.reveal_pin() == PIN
    first, resumed = fake.calls("cardPinGet")
    assert first.body == resumed.body  # same payload: the answer is read with the kept CEK


async def test_device_built_payload_is_relayed(wise: Any, fake: FakeWise, jose: FakeJose) -> None:
    card = jose.add_card()
    key = await wise.card_secrets.encryption_key()
    # On the device: encrypt with Wise's card key, keep the JweRequest (its CEK) for the answer.
    body, device_request = build_card_encrypted_payload(
        {"nonce": "n-1"}, key.material, key_version=key.version
    )
    relayed = await wise.card_secrets.relay(
        "details", card.token, encrypted_payload=body["encryptedPayload"], key_version=key.version
    )
    assert isinstance(relayed, RelayedCardResponse)
    assert relayed.encrypted_payload is not None and relayed.reveal_json() is None
    assert PAN not in repr(relayed)
    decrypted = json.loads(device_request.decrypt_response(relayed.encrypted_payload))
    assert decrypted["pan"] == card.pan and decrypted["nonce"] == "n-1"
    assert (
        json.loads(fake.calls("cardSensitiveDetailsGet")[0].body)["encryptedPayload"]
        == body["encryptedPayload"]
    )

    jose.card_response_form = "plain"
    plain = await wise.card_secrets.relay(
        "pin", card.token, encrypted_payload=body["encryptedPayload"], key_version=key.version
    )
    assert plain.encrypted_payload is None and (plain.reveal_json() or {})["pin"] == PIN
    with pytest.raises(JoseError):
        await wise.card_secrets.relay("pin", card.token, encrypted_payload="not-a-jwe", key_version=1)


async def test_card_secrets_need_no_jose_keys_and_bypass_the_jose_layer(
    fake: FakeWise, jose: FakeJose
) -> None:
    card = jose.add_card()
    async with make_client(fake) as wise:
        assert isinstance(wise.card_secrets, CardSecrets)
        assert wise.card_secrets is wise.card_secrets
        await wise.card_secrets.get_details(card.token)
    assert fake.calls("cardSensitiveDetailsGet")[0].headers["content-type"] == "application/json"
    assert fake.counters["joseResponsePublicKeysGet"] == 0
