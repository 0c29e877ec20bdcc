"""Recipients: recipientCreate, recipientGet, recipientList (seek pagination), recipientDeactivate."""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from ._http import FakeResponse, Rejection, errors_response, json_response
from ._routes_profiles import owned_profile
from ._routing import Call, route
from ._store import Record, public

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["ROUTES"]

MAX_PAGE_SIZE = 20

_COUNTRY_BY_CURRENCY = {
    "GBP": "GB", "EUR": "DE", "USD": "US", "AUD": "AU", "CAD": "CA", "CHF": "CH", "JPY": "JP",
    "PLN": "PL", "SEK": "SE", "NOK": "NO", "DKK": "DK", "INR": "IN", "NZD": "NZ", "SGD": "SG",
}  # fmt: skip
_HIDDEN_DETAILS = {"legalType", "address"}


def _camel(type_: str) -> str:
    """Request types are snake_case (``sort_code``), responses CamelCase (``SortCode``)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\s]+", type_) if part)


def _label(key: str) -> str:
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", key).lower()
    return words[:1].upper() + words[1:]


def _summaries(type_: str, currency: str, details: dict[str, Any]) -> tuple[str, str]:
    if type_ == "sort_code" and "sortCode" in details and "accountNumber" in details:
        code = str(details["sortCode"]).replace("-", "")
        short = f"({code[0:2]}-{code[2:4]}-{code[4:6]}) {details['accountNumber']}"
        number = str(details["accountNumber"])
    else:
        number = str(details.get("iban") or details.get("accountNumber") or details.get("email") or "unknown")
        short = number
    return short, f"{currency} account ending in {number[-4:]}"


def _missing(name: str) -> Rejection:
    return Rejection(errors_response(400, "NOT_VALID", f"{name} is required.", name))


def _required_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _missing(name)
    return value


def _required_int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _missing(name)
    return value


@route("POST", "/v1/accounts", "recipientCreate", "user")
def recipient_create(fake: FakeWise, call: Call) -> FakeResponse:
    body = call.request.json_object()
    profile = owned_profile(fake, call, _required_int(body, "profile"))
    currency = _required_str(body, "currency").upper()
    type_ = _required_str(body, "type")
    holder = _required_str(body, "accountHolderName")
    raw_details = body.get("details") or {}
    if not isinstance(raw_details, dict):
        raise Rejection(errors_response(400, "NOT_VALID", "details must be an object.", "details"))

    details = {k: v for k, v in raw_details.items() if k not in _HIDDEN_DETAILS}
    fingerprint = json.dumps([currency, type_, details], sort_keys=True).encode()
    details["reference"] = raw_details.get("reference")
    details["hashedByLooseHashAlgorithm"] = hashlib.sha256(b"loose:" + fingerprint).hexdigest()
    iban = details.get("iban")
    country = (
        iban[:2].upper() if isinstance(iban, str) and len(iban) > 2 else _COUNTRY_BY_CURRENCY.get(currency)
    )
    short, long = _summaries(type_, currency, details)
    common: dict[str, str] = {}
    if "accountNumber" in details:
        common["accountNumberField"] = "accountNumber"
    elif "iban" in details:
        common["accountNumberField"] = "iban"
    if "sortCode" in details:
        common["bankCodeField"] = "sortCode"

    recipient_id = fake._next_id("recipient")
    record: Record = {
        "id": recipient_id,
        "creatorId": call.user_id,
        "profileId": profile["id"],
        "name": {
            "fullName": holder,
            "givenName": None,
            "familyName": None,
            "middleName": None,
            "patronymicName": None,
            "cannotHavePatronymicName": None,
        },
        "currency": currency,
        "type": _camel(type_),
        "legalEntityType": "INSTITUTION" if raw_details.get("legalType") == "BUSINESS" else "PERSON",
        "active": True,
        "details": details,
        "commonFieldMap": common,
        "hash": hashlib.sha256(fingerprint + holder.encode()).hexdigest(),
        "accountSummary": short,
        "longAccountSummary": long,
        "displayFields": [
            {"key": f"details/{k}", "label": _label(k), "value": str(v)}
            for k, v in raw_details.items()
            if k not in _HIDDEN_DETAILS and isinstance(v, (str, int))
        ],
        "isInternal": False,
        "ownedByCustomer": bool(body.get("ownedByCustomer", False)),
        "_request_type": type_,
    }
    if country is not None:
        record["country"] = country
    fake.recipients.put(recipient_id, record)
    return json_response(200, public(record))


def owned_recipient(fake: FakeWise, call: Call, recipient_id: int) -> Record:
    """The caller's recipient; another user's is reported as missing, not as forbidden."""
    recipient = fake.recipients.record(recipient_id)
    profile = None if recipient is None else fake.profiles.record(recipient["profileId"])
    if recipient is None or profile is None or profile["userId"] != call.user_id:
        raise Rejection(errors_response(404, "NOT_FOUND", f"Recipient {recipient_id} not found."))
    return recipient


@route("GET", "/v2/accounts/{accountId}", "recipientGet", "user")
def recipient_get(fake: FakeWise, call: Call) -> FakeResponse:
    return json_response(200, public(owned_recipient(fake, call, call.int_param("accountId"))))


@route("DELETE", "/v2/accounts/{accountId}", "recipientDeactivate", "user")
def recipient_deactivate(fake: FakeWise, call: Call) -> FakeResponse:
    recipient = owned_recipient(fake, call, call.int_param("accountId"))
    recipient["active"] = False
    return json_response(200, public(recipient))


def _int_query(call: Call, name: str) -> int | None:
    raw = call.request.param(name)
    if raw is None or raw in ("", "null"):
        return None
    try:
        return int(raw)
    except ValueError:
        raise Rejection(errors_response(400, "NOT_VALID", f"{name} must be an integer.", name)) from None


def _bool_query(call: Call, name: str) -> bool | None:
    raw = call.request.param(name)
    return None if not raw else raw.lower() == "true"


@route("GET", "/v2/accounts", "recipientList", "user")
def recipient_list(fake: FakeWise, call: Call) -> FakeResponse:
    user_id = call.user_id
    own_profiles = {p["id"] for p in fake.profiles.records(lambda p: p["userId"] == user_id)}
    profile_id = _int_query(call, "profileId") or _int_query(call, "profile")
    creator_id = _int_query(call, "creatorId")
    currency = call.request.param("currency")
    type_ = call.request.param("type")
    active = _bool_query(call, "active")
    active = True if active is None else active
    owned_by_customer = _bool_query(call, "ownedByCustomer")
    size = _int_query(call, "size")
    size = MAX_PAGE_SIZE if size is None else size
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise Rejection(errors_response(400, "NOT_VALID", f"size must be 1..{MAX_PAGE_SIZE}.", "size"))

    def where(r: Record) -> bool:
        return (
            r["profileId"] in own_profiles
            and (profile_id is None or r["profileId"] == profile_id)
            and (creator_id is None or r["creatorId"] == creator_id)
            and (currency is None or r["currency"] == currency.upper())
            and (type_ is None or type_ in (r["type"], r["_request_type"]))
            and r["active"] == active
            and (owned_by_customer is None or r["ownedByCustomer"] == owned_by_customer)
        )

    page, next_seek = fake.recipients.seek_page(where, _int_query(call, "seekPosition"), size)
    return json_response(
        200,
        {
            "content": [public(r) for r in page],
            "seekPositionForNext": next_seek,
            "seekPositionForCurrent": page[0]["id"] if page else None,
            "sort": {"empty": True, "sorted": False, "unsorted": True},
            "size": size,
        },
    )


ROUTES = [recipient_create, recipient_get, recipient_list, recipient_deactivate]
