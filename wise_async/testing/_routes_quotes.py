"""Quotes: quoteCreate, quoteGet, quoteCreateUnauthenticated.

Pricing is deliberately simple but self-consistent: ``sourceAmount`` includes the fee and
``targetAmount == (sourceAmount - fee) * rate``, so tests can check arithmetic end to end.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from ._clock import format_iso
from ._http import FakeResponse, Rejection, errors_response, json_response
from ._routes_profiles import owned_profile
from ._routing import Call, route
from ._store import Record, public

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["DEFAULT_RATES", "ROUTES", "money"]

DEFAULT_RATES: dict[tuple[str, str], Decimal] = {
    ("GBP", "EUR"): Decimal("1.1712"),
    ("GBP", "USD"): Decimal("1.2704"),
    ("EUR", "USD"): Decimal("1.0847"),
    ("USD", "JPY"): Decimal("151.32"),
    ("EUR", "PLN"): Decimal("4.3127"),
}
FALLBACK_RATE = Decimal("1.2345")
FEE_PERCENT = Decimal("0.0045")
FEE_FIXED = Decimal("0.30")
QUOTE_LIFETIME = 30 * 60  # quotes can be used for 30 minutes
RATE_GUARANTEE = 48 * 3600

CENT = Decimal("0.01")
_CURRENCY = re.compile(r"[A-Z]{3}")


def money(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return value.quantize(CENT, rounding=rounding)


def rate_for(fake: FakeWise, source: str, target: str) -> Decimal:
    if source == target:
        return Decimal(1)
    if (source, target) in fake.rates:
        return fake.rates[(source, target)]
    if (target, source) in fake.rates:
        return (Decimal(1) / fake.rates[(target, source)]).quantize(Decimal("0.000001"))
    return FALLBACK_RATE


def _currency(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise Rejection(errors_response(422, "NOT_VALID", f"{name} must be an ISO 4217 code.", name))
    return value


def _amount(body: dict[str, Any], name: str) -> Decimal | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal(-1)
    if isinstance(value, bool) or not amount.is_finite() or amount <= 0:
        raise Rejection(errors_response(422, "NOT_VALID", f"{name} must be a positive number.", name))
    return amount


def _price(fee: Decimal, currency: str) -> dict[str, Any]:
    value = {"amount": float(fee), "currency": currency, "label": f"{fee} {currency}"}
    return {
        "priceSetId": 238,
        "total": {"type": "TOTAL", "label": "Fees", "value": value},
        "items": [{"id": "1", "type": "TRANSFERWISE", "label": "Our fee", "value": value}],
    }


def build_quote(
    fake: FakeWise,
    body: dict[str, Any],
    *,
    user_id: int | None,
    profile_id: int | None,
) -> Record:
    """Price a quote request and store it; validation errors come back as Wise's 422 ``errors`` list."""
    source, target = _currency(body, "sourceCurrency"), _currency(body, "targetCurrency")
    source_amount, target_amount = _amount(body, "sourceAmount"), _amount(body, "targetAmount")
    if (source_amount is None) == (target_amount is None):
        raise Rejection(
            errors_response(
                422, "NOT_VALID", "Give exactly one of sourceAmount and targetAmount.", "sourceAmount"
            )
        )
    rate = rate_for(fake, source, target)
    if source_amount is not None:
        fee = money(source_amount * FEE_PERCENT + FEE_FIXED)
        if fee >= source_amount:
            raise Rejection(errors_response(422, "NOT_VALID", "sourceAmount is too small.", "sourceAmount"))
        target_amount = money((source_amount - fee) * rate)
        provided = "SOURCE"
    else:
        assert target_amount is not None
        source_amount = money((target_amount / rate + FEE_FIXED) / (1 - FEE_PERCENT), ROUND_UP)
        fee = money(source_amount * FEE_PERCENT + FEE_FIXED)
        provided = "TARGET"
    now = fake.clock.now()
    pay_out = body.get("payOut") or "BANK_TRANSFER"
    pay_in = body.get("preferredPayIn") or "BALANCE"
    quote_id = fake._new_secret()
    option = {
        "disabled": False,
        "estimatedDelivery": format_iso(now + 86400),
        "formattedEstimatedDelivery": "by tomorrow",
        "estimatedDeliveryDelays": [],
        "fee": {
            "transferwise": float(fee),
            "payIn": 0.0,
            "discount": 0.0,
            "partner": 0.0,
            "total": float(fee),
        },
        "price": _price(fee, source),
        "sourceAmount": float(source_amount),
        "targetAmount": float(target_amount),
        "sourceCurrency": source,
        "targetCurrency": target,
        "payIn": pay_in,
        "payOut": pay_out,
        "allowedProfileTypes": ["PERSONAL", "BUSINESS"],
        "payInProduct": pay_in,
        "feePercentage": float((fee / source_amount).quantize(Decimal("0.0001"))),
    }
    quote: Record = {
        "id": quote_id,
        "sourceCurrency": source,
        "targetCurrency": target,
        "sourceAmount": float(source_amount),
        "targetAmount": float(target_amount),
        "payOut": pay_out,
        "preferredPayIn": pay_in,
        "rate": float(rate),
        "createdTime": format_iso(now),
        "rateType": "FIXED",
        "rateExpirationTime": format_iso(now + RATE_GUARANTEE),
        "guaranteedTargetAmountAllowed": True,
        "targetAmountAllowed": True,
        "guaranteedTargetAmount": provided == "TARGET",
        "providedAmountType": provided,
        "paymentOptions": [option],
        "status": "PENDING",
        "expirationTime": format_iso(now + QUOTE_LIFETIME),
        "notices": [],
        "_expires_at": now + QUOTE_LIFETIME,
        "_user_id": user_id,
        "_profile_id": profile_id,
    }
    if user_id is not None:
        quote["user"] = user_id
    if profile_id is not None:
        quote["profile"] = profile_id
    if body.get("targetAccount") is not None:
        quote["targetAccount"] = body["targetAccount"]
    if isinstance(body.get("pricingConfiguration"), dict):
        quote["pricingConfiguration"] = body["pricingConfiguration"]
    return fake.quotes.put(quote_id, quote)


def quote_view(fake: FakeWise, quote: Record) -> Record:
    """Public form, with a pending quote shown as EXPIRED once its time is up."""
    view = public(quote)
    if view["status"] == "PENDING" and fake.clock.now() >= quote["_expires_at"]:
        view["status"] = "EXPIRED"
    return view


@route("POST", "/v3/profiles/{profileId}/quotes", "quoteCreate", "user")
def quote_create(fake: FakeWise, call: Call) -> FakeResponse:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    quote = build_quote(fake, call.request.json_object(), user_id=call.user_id, profile_id=profile["id"])
    return json_response(200, quote_view(fake, quote))


@route("GET", "/v3/profiles/{profileId}/quotes/{quoteId}", "quoteGet", "user")
def quote_get(fake: FakeWise, call: Call) -> FakeResponse:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    quote = fake.quotes.record(call.params["quoteId"])
    if quote is None or quote["_profile_id"] != profile["id"]:
        raise Rejection(errors_response(404, "NOT_FOUND", "Quote not found.", "quoteId"))
    return json_response(200, quote_view(fake, quote))


@route("POST", "/v3/quotes", "quoteCreateUnauthenticated", ("client", "anonymous"))
def quote_create_unauthenticated(fake: FakeWise, call: Call) -> FakeResponse:
    quote = build_quote(fake, call.request.json_object(), user_id=None, profile_id=None)
    return json_response(200, quote_view(fake, quote))


ROUTES = [quote_create, quote_get, quote_create_unauthenticated]
