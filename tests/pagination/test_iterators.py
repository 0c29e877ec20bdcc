"""Every paged list through WiseClient and FakeWise: counts, requests, filters, edge cases, typed errors."""

from __future__ import annotations

import datetime
import gc
import json
import urllib.parse
import weakref
from typing import Any

import anyio
import httpx
import pytest
import sniffio
from wise_api.models.activity import Activity
from wise_api.models.activity_status import ActivityStatus
from wise_api.models.card import Card
from wise_api.models.card_order import CardOrder
from wise_api.models.card_transaction import CardTransaction
from wise_api.models.dispute import Dispute
from wise_api.models.dispute_list_status import DisputeListStatus
from wise_api.models.kyc_review import KYCReview
from wise_api.models.recipient_account import RecipientAccount
from wise_api.models.standard_transfer import StandardTransfer

from wise_async import PaginationError, UnprocessableEntityError, WiseClient
from wise_async.testing import FakeWise

UTC = datetime.timezone.utc


def query(fake: FakeWise, operation_id: str) -> list[dict[str, str]]:
    return [dict(urllib.parse.parse_qsl(r.query)) for r in fake.calls(operation_id)]


def now(fake: FakeWise) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(fake.clock.now(), UTC)


# ----------------------------------------------------------------------------- one test per style


async def test_recipients_seek_position(fake: FakeWise, wise: WiseClient) -> None:
    ids = fake.seed_recipients(45)
    recipients = [r async for r in wise.iter_recipients()]
    assert [r.id for r in recipients] == ids
    assert all(isinstance(r, RecipientAccount) for r in recipients)
    assert [q.get("seekPosition") for q in query(fake, "recipientList")] == [None, str(ids[20]), str(ids[40])]
    assert {q["size"] for q in query(fake, "recipientList")} == {"20"}


async def test_activities_cursor(fake: FakeWise, wise: WiseClient, profile_id: int) -> None:
    ids = fake.seed_activities(230)
    activities = [a async for a in wise.iter_activities(profile_id)]
    assert [a.id for a in activities] == ids  # newest first
    assert all(isinstance(a, Activity) for a in activities)
    calls = query(fake, "activityList")
    assert len(calls) == 3
    assert "nextCursor" not in calls[0] and calls[1]["nextCursor"] and calls[2]["nextCursor"]


async def test_transfers_offset(fake: FakeWise, wise: WiseClient) -> None:
    ids = fake.seed_transfers(250)
    transfers = [t async for t in wise.iter_transfers()]
    assert sorted(t.id for t in transfers) == ids
    assert all(isinstance(t, StandardTransfer) for t in transfers)
    assert [(q["offset"], q["limit"]) for q in query(fake, "transferList")] == [
        ("0", "100"),
        ("100", "100"),
        ("200", "100"),
    ]


async def test_card_transactions_last_id(fake: FakeWise, wise: WiseClient, profile_id: int) -> None:
    ids = fake.seed_card_transactions(130)
    token = fake.card_transactions.records()[0]["cardToken"]
    window = {"from_creation_time": now(fake) - datetime.timedelta(days=30), "to_creation_time": now(fake)}
    items = [t async for t in wise.iter_card_transactions(profile_id, token, **window)]
    assert [t.id for t in items] == ids
    assert all(isinstance(t, CardTransaction) for t in items)
    calls = query(fake, "cardTransactionList")
    assert [q.get("lastId") for q in calls] == [None, str(ids[99])]
    assert all(q["fromCreationTime"] and q["toCreationTime"] for q in calls)  # the window on every page


@pytest.mark.parametrize(
    ("seed", "iterate", "model", "operation_id"),
    [
        ("seed_cards", "iter_cards", Card, "cardList"),
        ("seed_card_orders", "iter_card_orders", CardOrder, "cardOrderList"),
        ("seed_disputes", "iter_disputes", Dispute, "disputeList"),
    ],
)
async def test_page_number_with_total_count(
    fake: FakeWise, wise: WiseClient, profile_id: int, seed: str, iterate: str, model: type, operation_id: str
) -> None:
    ids = getattr(fake, seed)(25)
    items = [x async for x in getattr(wise, iterate)(profile_id, page_size=10)]
    assert len(items) == 25 and all(isinstance(x, model) for x in items)
    assert [getattr(x, "token", None) or x.id for x in items] == ids
    assert [q["pageNumber"] for q in query(fake, operation_id)] == ["1", "2", "3"]


async def test_kyc_reviews_page_number(fake: FakeWise, wise: WiseClient, profile_id: int) -> None:
    ids = fake.seed_kyc_reviews(25)
    reviews = [r async for r in wise.iter_kyc_reviews(profile_id, page_size=10)]
    assert [str(r.id) for r in reviews] == ids
    assert all(isinstance(r, KYCReview) for r in reviews)
    assert [q["pageNumber"] for q in query(fake, "kycReviewList")] == ["1", "2", "3"]


# ----------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize(
    ("iterate", "operation_id", "args"),
    [
        ("iter_recipients", "recipientList", ()),
        ("iter_activities", "activityList", (0,)),
        ("iter_transfers", "transferList", ()),
        ("iter_cards", "cardList", (0,)),
        ("iter_card_orders", "cardOrderList", (0,)),
        ("iter_disputes", "disputeList", (0,)),
        ("iter_kyc_reviews", "kycReviewList", (0,)),
    ],
)
async def test_an_empty_first_page_is_one_request(
    fake: FakeWise, wise: WiseClient, profile_id: int, iterate: str, operation_id: str, args: tuple[int, ...]
) -> None:
    args = tuple(profile_id for _ in args)
    assert [x async for x in getattr(wise, iterate)(*args)] == []
    assert len(fake.calls(operation_id)) == 1
    page = await getattr(wise, iterate)(*args)
    assert page.items == [] and page.next_params is None


async def test_an_empty_card_transaction_window(fake: FakeWise, wise: WiseClient, profile_id: int) -> None:
    token = fake.seed_cards(1)[0]
    window = {"from_creation_time": now(fake) - datetime.timedelta(days=1), "to_creation_time": now(fake)}
    assert [t async for t in wise.iter_card_transactions(profile_id, token, **window)] == []
    assert len(fake.calls("cardTransactionList")) == 1


@pytest.mark.parametrize(
    ("seed", "iterate", "operation_id", "size_kw", "requests"),
    [
        ("seed_recipients", "iter_recipients", "recipientList", "size", 2),  # seekPositionForNext null
        ("seed_activities", "iter_activities", "activityList", "size", 2),  # cursor null
        ("seed_transfers", "iter_transfers", "transferList", "limit", 3),  # a third, empty page
        ("seed_cards", "iter_cards", "cardList", "page_size", 2),  # totalCount reached
        ("seed_kyc_reviews", "iter_kyc_reviews", "kycReviewList", "page_size", 3),  # a third, empty page
    ],
)
async def test_an_exact_multiple_of_the_page_size(
    fake: FakeWise,
    wise: WiseClient,
    profile_id: int,
    seed: str,
    iterate: str,
    operation_id: str,
    size_kw: str,
    requests: int,
) -> None:
    getattr(fake, seed)(40 if size_kw == "size" and operation_id == "recipientList" else 20)
    size = 20 if operation_id == "recipientList" else 10
    args = () if operation_id in ("recipientList", "transferList") else (profile_id,)
    items = [x async for x in getattr(wise, iterate)(*args, **{size_kw: size})]
    assert len(items) == (40 if operation_id == "recipientList" else 20)
    assert len(fake.calls(operation_id)) == requests


async def test_an_exact_multiple_of_card_transactions(
    fake: FakeWise, wise: WiseClient, profile_id: int
) -> None:
    fake.seed_card_transactions(20)
    token = fake.card_transactions.records()[0]["cardToken"]
    window = {"from_creation_time": now(fake) - datetime.timedelta(days=5), "to_creation_time": now(fake)}
    items = [t async for t in wise.iter_card_transactions(profile_id, token, page_size=10, **window)]
    assert len(items) == 20
    assert len(fake.calls("cardTransactionList")) == 3


@pytest.mark.parametrize("end", ["null", "absent", "empty"])
async def test_null_absent_and_empty_last_cursor(
    fake: FakeWise, wise: WiseClient, profile_id: int, end: Any
) -> None:
    fake.activity_end_cursor = end
    fake.seed_activities(15)
    assert len([a async for a in wise.iter_activities(profile_id, size=10)]) == 15
    assert [r.status for r in fake.calls("activityList")] == [200, 200]


async def test_an_absent_seek_position_ends_recipients() -> None:
    """A recipientList page without seekPositionForNext at all (not even null) is the last one."""
    recipient = {"id": 1, "profileId": 2, "currency": "EUR", "type": "Iban", "active": True}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"content": [recipient], "size": 20})

    async with WiseClient(personal_token="t", transport=httpx.MockTransport(handler)) as wise:
        assert [r.id async for r in wise.iter_recipients()] == [1]


async def test_a_server_repeating_its_cursor_raises_pagination_error() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, json={"content": [{"id": 1}], "seekPositionForNext": 5})

    async with WiseClient(personal_token="t", transport=httpx.MockTransport(handler)) as wise:
        with pytest.raises(PaginationError, match="recipientList"):
            _ = [r async for r in wise.iter_recipients()]
    assert len(calls) == 2


async def test_a_cursor_loop_in_activities_raises(profile_id: int) -> None:
    following = {None: "a", "a": "b", "b": "a"}

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("nextCursor")
        return httpx.Response(200, json={"activities": [{"id": str(cursor)}], "cursor": following[cursor]})

    async with WiseClient(personal_token="t", transport=httpx.MockTransport(handler)) as wise:
        with pytest.raises(PaginationError):
            _ = [a async for a in wise.iter_activities(profile_id)]


async def test_card_transactions_over_90_days_is_a_typed_422(
    fake: FakeWise, wise: WiseClient, profile_id: int
) -> None:
    fake.seed_card_transactions(5)
    token = fake.card_transactions.records()[0]["cardToken"]
    paginator = wise.iter_card_transactions(
        profile_id,
        token,
        from_creation_time=now(fake) - datetime.timedelta(days=91),
        to_creation_time=now(fake),
    )
    with pytest.raises(UnprocessableEntityError) as caught:
        _ = [t async for t in paginator]
    assert caught.value.status_code == 422
    assert caught.value.errors[0].code == "INVALID_DATE_RANGE"
    assert len(fake.calls("cardTransactionList")) == 1
    exactly_90 = wise.iter_card_transactions(
        profile_id,
        token,
        from_creation_time=now(fake) - datetime.timedelta(days=90),
        to_creation_time=now(fake),
    )
    assert len([t async for t in exactly_90]) == 5


# ----------------------------------------------------------------------------- filters


async def test_filters_are_forwarded_on_every_page(fake: FakeWise, wise: WiseClient, profile_id: int) -> None:
    fake.seed_recipients(30, currency="EUR")
    fake.seed_recipients(25, currency="GBP")
    gbp = [r async for r in wise.iter_recipients(currency="GBP")]
    assert len(gbp) == 25 and {r.currency for r in gbp} == {"GBP"}
    assert [q["currency"] for q in query(fake, "recipientList")] == ["GBP", "GBP"]

    fake.seed_activities(12, status="COMPLETED")
    fake.seed_activities(7, status="CANCELLED")
    cancelled = [a async for a in wise.iter_activities(profile_id, status=ActivityStatus.CANCELLED, size=5)]
    assert len(cancelled) == 7 and all(q["status"] == "CANCELLED" for q in query(fake, "activityList"))

    fake.seed_transfers(120, status="processing")
    fake.seed_transfers(5, status="cancelled")
    processing = [t async for t in wise.iter_transfers(status="processing", profile=profile_id)]
    assert len(processing) == 120
    assert all(
        q["status"] == "processing" and q["profile"] == str(profile_id) for q in query(fake, "transferList")
    )

    fake.seed_disputes(12, status="CLOSED")
    fake.seed_disputes(3, status="ACTIVE")
    closed = [d async for d in wise.iter_disputes(profile_id, status=DisputeListStatus.CLOSED, page_size=10)]
    assert len(closed) == 12 and all(q["status"] == "CLOSED" for q in query(fake, "disputeList"))


async def test_the_generic_entry_point_and_max_items(
    fake: FakeWise, wise: WiseClient, profile_id: int
) -> None:
    fake.seed_disputes(35)
    first = [d async for d in wise.paginate("disputeList", profile_id, page_size=10, max_items=15)]
    assert len(first) == 15
    assert len(fake.calls("disputeList")) == 2


async def test_resuming_from_stored_next_params(fake: FakeWise, wise: WiseClient, profile_id: int) -> None:
    ids = fake.seed_activities(25)
    first = await wise.iter_activities(profile_id, size=10)
    assert first.next_params is not None
    saved = json.loads(json.dumps(dict(first.next_params)))  # survives being stored as JSON
    rest = [a.id async for a in wise.iter_activities(profile_id, **saved)]
    assert [a.id for a in first.items] + rest == ids


# ----------------------------------------------------------------------------- memory and runtimes


async def test_only_the_current_page_is_held(fake: FakeWise, wise: WiseClient) -> None:
    fake.seed_recipients(100)
    first_page: list[weakref.ref[RecipientAccount]] = []
    async for recipient in wise.iter_recipients():
        if len(first_page) < 20:
            first_page.append(weakref.ref(recipient))
        elif recipient.id == fake.recipients.records()[60]["id"]:  # on page 4
            del recipient
            gc.collect()
            assert all(ref() is None for ref in first_page)
            break


def test_iteration_under_trio(fake: FakeWise) -> None:
    fake.seed_recipients(45)

    async def main() -> int:
        assert sniffio.current_async_library() == "trio"
        async with WiseClient(personal_token=fake.add_personal_token(), transport=fake.transport()) as wise:
            return len([r async for r in wise.iter_recipients()])

    assert anyio.run(main, backend="trio") == 45
