"""Sensitive card data on the twcard host: the card encryption key, card details, card PIN, preset PIN.

Operations: cardEncryptionKeyGet, cardSensitiveDetailsGet, cardPinGet, cardOrderPresetPin.

Cards and card orders with secrets live on the fake's :class:`FakeJose` (``jose.add_card()``,
``jose.add_card_order()``), which also holds the card key; these routes attach one on first use.
Wise marks details and PIN as SCA-protected: add their operationIds to ``fake.sca_operations`` to
have the fake demand it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ._fake_jose import CARD_STATUSES_WITH_SECRETS, FakeCard, FakeCardOrder, FakeJose
from ._http import FakeResponse, Rejection, errors_response, json_response
from ._routing import Call, route

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["ROUTES"]

CARD_DATA = "/twcard-data/v1/sensitive-card-data"


def _card(jose: FakeJose, call: Call) -> FakeCard:
    token = call.request.headers.get("x-tw-twcard-card-token")
    if not token:
        raise Rejection(
            errors_response(400, "NOT_VALID", "x-tw-twcard-card-token header is required.", "cardToken")
        )
    card = jose.cards.get(token)
    if card is None or card.user_id != call.user_id:
        raise Rejection(errors_response(404, "NOT_FOUND", "Card not found."))
    if card.status not in CARD_STATUSES_WITH_SECRETS:
        raise Rejection(errors_response(403, "CARD_NOT_ACTIVE", "Card must be ACTIVE or FROZEN."))
    return card


def _order(jose: FakeJose, call: Call) -> FakeCardOrder:
    order_id = call.request.headers.get("x-tw-twcard-order-id")
    if not order_id:
        raise Rejection(errors_response(400, "NOT_VALID", "x-tw-twcard-order-id header is required."))
    order = jose.card_orders.get(order_id)
    if order is None or order.user_id != call.user_id:
        raise Rejection(errors_response(404, "NOT_FOUND", "Card order not found."))
    return order


def _nonce(payload: dict[str, object]) -> str:
    nonce = payload.get("nonce")
    return nonce if isinstance(nonce, str) and nonce else str(uuid.uuid4())


@route("GET", "/twcard-data/v1/clientSideEncryption/fetchEncryptingKey", "cardEncryptionKeyGet", "user")
def card_encryption_key(fake: FakeWise, call: Call) -> FakeResponse:
    jose = FakeJose.of(fake)
    return json_response(200, {"version": jose.card_key_version, "key": jose.public_key_b64("CARD")})


@route("POST", f"{CARD_DATA}/details", "cardSensitiveDetailsGet", "user")
def card_details(fake: FakeWise, call: Call) -> FakeResponse:
    jose = FakeJose.of(fake)
    card = _card(jose, call)
    payload, cek = jose.open_card_payload(call.request)
    answer = {
        "nonce": _nonce(payload),
        "cvv2": card.cvv,
        "pan": card.pan,
        "expiryDate": card.expiry_date,
        "cardholderName": card.cardholder_name,
    }
    return jose.card_response(answer, cek)


@route("POST", f"{CARD_DATA}/pin", "cardPinGet", "user")
def card_pin(fake: FakeWise, call: Call) -> FakeResponse:
    jose = FakeJose.of(fake)
    card = _card(jose, call)
    payload, cek = jose.open_card_payload(call.request)
    return jose.card_response({"nonce": _nonce(payload), "pin": card.pin}, cek)


@route("POST", f"{CARD_DATA}/preset-pin", "cardOrderPresetPin", "user")
def card_order_preset_pin(fake: FakeWise, call: Call) -> FakeResponse:
    jose = FakeJose.of(fake)
    order = _order(jose, call)
    payload, cek = jose.open_card_payload(call.request)
    pin = payload.get("pin")
    if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit() or len(pin) != 4:
        raise Rejection(errors_response(400, "INVALID_PIN", "PIN must be four digits."))
    order.preset_pin = pin
    return jose.card_response({"cardOrderId": order.order_id}, cek)


ROUTES = [card_encryption_key, card_details, card_pin, card_order_preset_pin]
