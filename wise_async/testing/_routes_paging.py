"""The paged lists not served elsewhere, one per paging style Wise uses.

* activityList — opaque ``cursor`` → ``nextCursor`` (null, absent or "" on the last page, per
  ``fake.activity_end_cursor``);
* cardTransactionList — ``lastId`` keyset paging by descending id inside a required creation-time
  window of at most 90 days (422 otherwise);
* cardList, cardOrderList, disputeList — ``pageNumber``/``pageSize`` with ``totalCount``;
* kycReviewList — ``pageNumber``/``pageSize``, a bare list.

(recipientList pages by seekPosition in ``_routes_recipients``; transferList by offset in
``_routes_transfers``.) Data comes from the ``seed_*`` helpers of ``_seeds``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import TYPE_CHECKING, Any

from ._http import FakeResponse, Rejection, errors_response, json_response
from ._routes_profiles import owned_profile
from ._routing import Call, route
from ._store import Record, public

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["ROUTES", "query_int", "query_time"]

MAX_CARD_TRANSACTION_WINDOW = datetime.timedelta(days=90)


def _invalid(name: str, message: str, status: int = 400, code: str = "NOT_VALID") -> Rejection:
    return Rejection(errors_response(status, code, message, name))


def query_int(
    call: Call, name: str, default: int | None, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    """An integer query parameter within bounds (400 otherwise); ``default`` when absent."""
    raw = call.request.param(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(name, f"{name} must be an integer.") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"{minimum if minimum is not None else '-inf'}..{maximum if maximum is not None else 'inf'}"
        raise _invalid(name, f"{name} must be in {bounds}.")
    return value


def query_time(call: Call, name: str, *, required: bool = False) -> float | None:
    """An ISO 8601 date-time query parameter as a timestamp (UTC when it has no offset)."""
    raw = call.request.param(name)
    if not raw:
        if required:
            raise _invalid(name, f"{name} is required.")
        return None
    text = raw.strip().replace(" ", "+").replace("Z", "+00:00")  # an unencoded '+' arrives as ' '
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(name, f"{name} must be an ISO 8601 date-time.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


def _page_number_slice(
    call: Call, records: list[Record], *, default_size: int, min_size: int
) -> list[Record]:
    size = query_int(call, "pageSize", default_size, minimum=min_size, maximum=100)
    number = query_int(call, "pageNumber", 1, minimum=1)
    assert size is not None and number is not None
    start = (number - 1) * size
    return records[start : start + size]


# ------------------------------------------------------------------------------- activities


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "offset":
            raise ValueError(text)
        return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _invalid("nextCursor", "nextCursor is not a cursor this API returned.") from None


@route("GET", "/v1/profiles/{profileId}/activities", "activityList", "user")
def activity_list(fake: FakeWise, call: Call) -> FakeResponse:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    size = query_int(call, "size", 10, minimum=1, maximum=100)
    assert size is not None
    status = call.request.param("status")
    resource_type = call.request.param("monetaryResourceType")
    since, until = query_time(call, "since"), query_time(call, "until")
    cursor = call.request.param("nextCursor")
    offset = _decode_cursor(cursor) if cursor else 0

    def where(r: Record) -> bool:
        return (
            r["_profile_id"] == profile["id"]
            and (status is None or r["status"] == status)
            and (resource_type is None or r["resource"]["type"] == resource_type)
            and (since is None or r["_at"] >= since)
            and (until is None or r["_at"] <= until)
        )

    matching = sorted(fake.activities.records(where), key=lambda r: (-r["_at"], -r["_seq"]))
    page = matching[offset : offset + size]
    body: dict[str, Any] = {"activities": [public(r) for r in page]}
    if offset + size < len(matching):
        body["cursor"] = _encode_cursor(offset + size)
    elif fake.activity_end_cursor == "null":
        body["cursor"] = None
    elif fake.activity_end_cursor == "empty":
        body["cursor"] = ""
    return json_response(200, body)


# ------------------------------------------------------------------------------- cards


@route("GET", "/v3/spend/profiles/{profileId}/cards", "cardList", "user")
def card_list(fake: FakeWise, call: Call) -> FakeResponse:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    cards = fake.cards.records(lambda r: r["profileId"] == profile["id"])
    page = _page_number_slice(call, cards, default_size=10, min_size=10)
    return json_response(200, {"cards": [public(r) for r in page], "totalCount": len(cards)})


@route("GET", "/v3/spend/profiles/{profileId}/card-orders", "cardOrderList", "user")
def card_order_list(fake: FakeWise, call: Call) -> FakeResponse:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    orders = fake.card_orders.records(lambda r: r["profileId"] == profile["id"])
    page = _page_number_slice(call, orders, default_size=10, min_size=1)
    return json_response(200, {"totalCount": len(orders), "cardOrders": [public(r) for r in page]})


@route("GET", "/v4/spend/profiles/{profileId}/cards/{cardToken}/transactions", "cardTransactionList", "user")
def card_transaction_list(fake: FakeWise, call: Call) -> FakeResponse:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    token = call.params["cardToken"]
    card = fake.cards.record(token)
    if card is None or card["profileId"] != profile["id"]:
        raise Rejection(errors_response(404, "NOT_FOUND", f"Card {token} not found.", "cardToken"))
    start = query_time(call, "fromCreationTime", required=True)
    end = query_time(call, "toCreationTime", required=True)
    assert start is not None and end is not None
    if end < start:
        raise _invalid("toCreationTime", "toCreationTime must not be before fromCreationTime.", 422)
    if end - start > MAX_CARD_TRANSACTION_WINDOW.total_seconds():
        raise _invalid(
            "toCreationTime",
            "The period between fromCreationTime and toCreationTime cannot exceed 90 days.",
            422,
            "INVALID_DATE_RANGE",
        )
    size = query_int(call, "pageSize", 20, minimum=10, maximum=100)
    last_id = query_int(call, "lastId", None)
    assert size is not None

    def where(r: Record) -> bool:
        return r["cardToken"] == token and start <= r["_at"] <= end and (last_id is None or r["id"] < last_id)

    newest_first = sorted(fake.card_transactions.records(where), key=lambda r: -r["id"])
    return json_response(200, {"transactions": [public(r) for r in newest_first[:size]]})


@route("GET", "/v3/spend/profiles/{profileId}/disputes", "disputeList", "user")
def dispute_list(fake: FakeWise, call: Call) -> FakeResponse:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    status = call.request.param("status")
    transaction_id = query_int(call, "transactionId", None)

    def where(r: Record) -> bool:
        return (
            r["profileId"] == profile["id"]
            and (status is None or r["status"] == status)
            and (transaction_id is None or r["transactionId"] == transaction_id)
        )

    disputes = fake.disputes.records(where)
    page = _page_number_slice(call, disputes, default_size=10, min_size=10)
    return json_response(200, {"totalCount": len(disputes), "disputes": [public(r) for r in page]})


# ------------------------------------------------------------------------------- KYC reviews


@route("GET", "/v1/profiles/{profileId}/kyc-reviews", "kycReviewList", "user")
def kyc_review_list(fake: FakeWise, call: Call) -> FakeResponse:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    reviews = fake.kyc_reviews.records(lambda r: r["_profile_id"] == profile["id"])
    page = _page_number_slice(call, reviews, default_size=100, min_size=1)
    return json_response(200, [public(r) for r in page])


ROUTES = [activity_list, card_list, card_order_list, card_transaction_list, dispute_list, kyc_review_list]
