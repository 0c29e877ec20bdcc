"""Transfers: transferCreate (idempotent on customerTransactionId, one per quote), transferGet,
transferList, transferCancel, and transferFund (SCA-gated by the dispatcher, debits the balance exactly
once). Refusals come from the rule table (``_rules``); status changes go through ``change_status``."""

from __future__ import annotations

import datetime
import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._clock import format_wise_datetime
from ._http import FakeResponse, Rejection, errors_response, json_response
from ._routes_profiles import owned_profile
from ._routes_quotes import money
from ._routing import Call, route
from ._rules import refuse, rule
from ._store import BalanceMovement, Record, public
from ._transfer_states import CANCELLABLE, change_status

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["ROUTES", "owned_transfer"]

DEFAULT_LIST_LIMIT = 100


def _invalid(code: str, message: str, path: str) -> Rejection:
    return Rejection(errors_response(422, code, message, path))


def _fingerprint(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def owned_transfer(fake: FakeWise, call: Call, transfer_id: int) -> Record:
    transfer = fake.transfers.record(transfer_id)
    if transfer is None or transfer["user"] != call.user_id:
        raise Rejection(errors_response(404, "NOT_FOUND", f"Transfer {transfer_id} not found."))
    return transfer


@route("POST", "/v1/transfers", "transferCreate", "user")
def transfer_create(fake: FakeWise, call: Call) -> FakeResponse:
    user_id = call.user_id
    body = call.request.json_object()
    customer_tx = body.get("customerTransactionId")
    try:
        uuid.UUID(str(customer_tx))
    except ValueError:
        raise _invalid(
            "NOT_VALID", "customerTransactionId must be a UUID.", "customerTransactionId"
        ) from None

    # Idempotency first: a replay must get the original transfer even if the quote has expired since.
    key = (user_id, str(customer_tx).lower())
    fingerprint = _fingerprint(body)
    existing = fake._transfer_keys.get(key)
    if existing is not None:
        if existing[0] != fingerprint:
            raise refuse(
                "transfer-idempotency",
                "customerTransactionId was already used for a different transfer.",
                "customerTransactionId",
            )
        fake.counters["transfer_idempotent_replay"] += 1
        return json_response(200, public(fake.transfers.record(existing[1]) or {}))

    quote = fake.quotes.record(str(body.get("quoteUuid")))
    if quote is None or quote["_user_id"] != user_id:
        raise refuse("transfer-quote-owned", "Quote not found.", "quoteUuid")
    if quote.get("_transfer_id") is not None:
        raise refuse(
            "transfer-one-per-quote",
            f"Quote {quote['id']} already has transfer {quote['_transfer_id']}; create a new quote.",
            "quoteUuid",
        )
    target_account = body.get("targetAccount")
    recipient = None
    if isinstance(target_account, int) and not isinstance(target_account, bool):
        recipient = fake.recipients.record(target_account)
    if recipient is None or recipient["creatorId"] != user_id or not recipient["active"]:
        raise _invalid("RECIPIENT_NOT_FOUND", "Recipient not found or inactive.", "targetAccount")
    if recipient["currency"] != quote["targetCurrency"]:
        raise _invalid("CURRENCY_MISMATCH", "Recipient currency differs from the quote's.", "targetAccount")
    raw_details = body.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    profile = fake.profiles.record(quote["_profile_id"]) or {}

    now = fake.clock.now()
    transfer_id = fake._next_id("transfer")
    transfer: Record = {
        "id": transfer_id,
        "user": user_id,
        "targetAccount": recipient["id"],
        "sourceAccount": body.get("sourceAccount"),
        "quote": None,
        "quoteUuid": quote["id"],
        "status": "incoming_payment_waiting",
        "reference": str(details.get("reference", "")),
        "rate": quote["rate"],
        "created": format_wise_datetime(now),
        "business": profile.get("id") if profile.get("type") == "BUSINESS" else None,
        "transferRequest": None,
        "details": {"reference": str(details.get("reference", ""))},
        "hasActiveIssues": False,
        "sourceCurrency": quote["sourceCurrency"],
        "sourceValue": quote["sourceAmount"],
        "targetCurrency": quote["targetCurrency"],
        "targetValue": quote["targetAmount"],
        "customerTransactionId": str(customer_tx),
        "payinSessionId": fake._new_secret(),
        "_profile_id": quote["_profile_id"],
        "_created_at": now,
        "_payment": None,
    }
    fake.transfers.put(transfer_id, transfer)
    fake._transfer_keys[key] = (fingerprint, transfer_id)
    quote["status"] = "ACCEPTED"
    quote["_transfer_id"] = transfer_id
    return json_response(200, public(transfer))


@route("GET", "/v1/transfers/{transferId}", "transferGet", "user")
def transfer_get(fake: FakeWise, call: Call) -> FakeResponse:
    return json_response(200, public(owned_transfer(fake, call, call.int_param("transferId"))))


def _query_int(call: Call, name: str, default: int) -> int:
    raw = call.request.param(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise Rejection(errors_response(400, "NOT_VALID", f"{name} must be a non-negative integer.", name))
    return value


def _query_time(call: Call, name: str) -> float | None:
    raw = call.request.param(name)
    if not raw:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Rejection(
            errors_response(400, "NOT_VALID", f"{name} must be an ISO 8601 date.", name)
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


@route("GET", "/v1/transfers", "transferList", "user")
def transfer_list(fake: FakeWise, call: Call) -> FakeResponse:
    user_id = call.user_id
    request = call.request
    profile_raw = request.param("profile")
    profile_id = int(profile_raw) if profile_raw and profile_raw.isdigit() else None
    statuses = {s.strip() for s in (request.param("status") or "").split(",") if s.strip()}
    source, target = request.param("sourceCurrency"), request.param("targetCurrency")
    start, end = _query_time(call, "createdDateStart"), _query_time(call, "createdDateEnd")
    limit = _query_int(call, "limit", DEFAULT_LIST_LIMIT)
    offset = _query_int(call, "offset", 0)

    def where(t: Record) -> bool:
        return (
            t["user"] == user_id
            and (profile_id is None or t["_profile_id"] == profile_id)
            and (not statuses or t["status"] in statuses)
            and (source is None or t["sourceCurrency"] == source)
            and (target is None or t["targetCurrency"] == target)
            and (start is None or t["_created_at"] >= start)
            and (end is None or t["_created_at"] <= end)
        )

    return json_response(200, [public(t) for t in fake.transfers.offset_page(where, offset, limit)])


def _move(fake: FakeWise, transfer: Record, amount: Decimal, reason: str) -> None:
    key = (transfer["_profile_id"], transfer["sourceCurrency"])
    after = fake.balances.get(key, Decimal(0)) + amount
    fake.balances[key] = after
    fake.balance_movements.append(
        BalanceMovement(key[0], key[1], amount, after, reason, transfer["id"], fake.clock.now())
    )


@route("PUT", "/v1/transfers/{transferId}/cancel", "transferCancel", "user")
def transfer_cancel(fake: FakeWise, call: Call) -> FakeResponse:
    transfer = owned_transfer(fake, call, call.int_param("transferId"))
    if transfer["status"] not in CANCELLABLE:
        raise refuse(
            "cancel-not-after-conversion",
            f"Transfer {transfer['id']} is {transfer['status']} and can no longer be cancelled.",
        )
    if transfer["_payment"] is not None:
        _move(fake, transfer, money(Decimal(str(transfer["sourceValue"]))), "TRANSFER_REFUND")
    change_status(fake, transfer, "cancelled")
    return json_response(200, public(transfer))


@route("POST", "/v3/profiles/{profileId}/transfers/{transferId}/payments", "transferFund", "user")
def transfer_fund(fake: FakeWise, call: Call) -> FakeResponse:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    transfer = owned_transfer(fake, call, call.int_param("transferId"))
    if transfer["_profile_id"] != profile["id"]:
        raise Rejection(errors_response(404, "NOT_FOUND", "Transfer not found for this profile."))
    body = call.request.json_object()
    if body.get("type") != "BALANCE":
        raise _invalid("NOT_VALID", "Only type BALANCE is supported.", "type")
    if transfer["_payment"] is not None:
        fake.counters["transfer_fund_replay"] += 1  # funded already: answer again, move nothing
        return json_response(200, transfer["_payment"])
    if transfer["status"] != "incoming_payment_waiting":
        raise refuse("fund-only-waiting", f"Transfer is {transfer['status']}.", "transferId")
    amount = money(Decimal(str(transfer["sourceValue"])))
    if fake.balances.get((profile["id"], transfer["sourceCurrency"]), Decimal(0)) < amount:
        insufficient = rule("fund-insufficient-balance")
        return json_response(
            insufficient.status, {"type": "BALANCE", "status": "REJECTED", "errorCode": insufficient.code}
        )
    _move(fake, transfer, -amount, "TRANSFER_FUNDING")
    payment = {"type": "BALANCE", "status": "COMPLETED", "errorCode": None}
    transfer["_payment"] = payment
    change_status(fake, transfer, "processing")
    quote = fake.quotes.record(transfer["quoteUuid"])
    if quote is not None:
        quote["status"] = "FUNDED"
    return json_response(200, payment)


ROUTES = [transfer_create, transfer_get, transfer_list, transfer_cancel, transfer_fund]
