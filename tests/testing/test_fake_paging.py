"""FakeWise's paged collections, statements and file routes, driven with raw httpx (no SDK code).

Responses are checked against the generated models (``from_dict``), so the fake keeps to the spec's
schemas; bounds, windows and multipart validation are checked against the protocol notes.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from wise_api.models.activity_list_response_200 import ActivityListResponse200
from wise_api.models.balance_statement_get_response_200 import BalanceStatementGetResponse200
from wise_api.models.card_list_response_200 import CardListResponse200
from wise_api.models.card_order_list_response_200 import CardOrderListResponse200
from wise_api.models.card_transaction_list_response_200 import CardTransactionListResponse200
from wise_api.models.dispute_list_response_200 import DisputeListResponse200
from wise_api.models.kyc_review import KYCReview
from wise_api.models.recipient_list_response_200 import RecipientListResponse200
from wise_api.models.standard_transfer import StandardTransfer

from wise_async.testing import FakeWise
from wise_async.testing._routes_files import parse_multipart

SANDBOX = "https://api.wise-sandbox.com"
UTC = datetime.timezone.utc


@pytest.fixture
def fake() -> FakeWise:
    return FakeWise()


@pytest.fixture
async def client(fake: FakeWise) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {fake.add_personal_token()}"}
    async with httpx.AsyncClient(transport=fake.transport(), base_url=SANDBOX, headers=headers) as client:
        yield client


@pytest.fixture
def pid(fake: FakeWise) -> int:
    return fake.personal_profile_id


def iso(moment: datetime.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def now(fake: FakeWise) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(fake.clock.now(), UTC)


async def get_json(client: httpx.AsyncClient, url: str, **params: Any) -> Any:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


# ----------------------------------------------------------------------------- seeding + schemas


async def test_seeded_recipients_page_by_seek_position(fake: FakeWise, client: httpx.AsyncClient) -> None:
    ids = fake.seed_recipients(45, currency="GBP")
    first = await get_json(client, "/v2/accounts", size=20)
    parsed = RecipientListResponse200.from_dict(first)
    assert [r.id for r in parsed.content] == ids[:20]
    assert parsed.seek_position_for_next == ids[20]
    last = await get_json(client, "/v2/accounts", size=20, seekPosition=ids[40])
    assert [r["id"] for r in last["content"]] == ids[40:] and last["seekPositionForNext"] is None
    assert (await get_json(client, "/v2/accounts", currency="EUR"))["content"] == []


async def test_seek_page_costs_one_page(fake: FakeWise) -> None:
    fake.seed_recipients(3)
    other = fake.add_profile("PERSONAL", user_id=fake.add_user())["id"]
    ids = fake.seed_recipients(5, profile_id=other)
    page, following = fake.recipients.seek_page(lambda r: r["profileId"] == other, ids[1], 2)
    assert [r["id"] for r in page] == ids[1:3] and following == ids[3]
    page, following = fake.recipients.seek_page(lambda r: r["profileId"] == other, ids[4], 2)
    assert [r["id"] for r in page] == ids[4:] and following is None


async def test_seeded_transfers_page_by_offset(fake: FakeWise, client: httpx.AsyncClient) -> None:
    ids = fake.seed_transfers(15)
    page = await get_json(client, "/v1/transfers", limit=10, offset=10)
    assert [StandardTransfer.from_dict(t).id for t in page] == ids[:5][::-1]  # newest first


async def test_activities_cursor_and_filters(fake: FakeWise, client: httpx.AsyncClient, pid: int) -> None:
    ids = fake.seed_activities(12)
    url = f"/v1/profiles/{pid}/activities"
    first = ActivityListResponse200.from_dict(await get_json(client, url, size=5))
    assert [a.id for a in first.activities] == ids[:5] and isinstance(first.cursor, str)
    second = await get_json(client, url, size=5, nextCursor=first.cursor)
    assert [a["id"] for a in second["activities"]] == ids[5:10]
    since = iso(now(fake) - datetime.timedelta(hours=3, minutes=30))
    assert len((await get_json(client, url, since=since))["activities"]) == 3
    assert (await get_json(client, url, status="CANCELLED"))["activities"] == []
    assert (await client.get(url, params={"nextCursor": "garbage!"})).status_code == 400
    assert (await client.get(url, params={"size": 101})).status_code == 400


@pytest.mark.parametrize(
    ("style", "expected"), [("null", {"cursor": None}), ("absent", {}), ("empty", {"cursor": ""})]
)
async def test_activities_last_page_cursor_styles(
    fake: FakeWise, client: httpx.AsyncClient, pid: int, style: Any, expected: dict[str, Any]
) -> None:
    fake.activity_end_cursor = style
    fake.seed_activities(3)
    body = await get_json(client, f"/v1/profiles/{pid}/activities", size=5)
    assert {k: v for k, v in body.items() if k != "activities"} == expected


async def test_card_lists_page_by_number_with_total(
    fake: FakeWise, client: httpx.AsyncClient, pid: int
) -> None:
    tokens = fake.seed_cards(23)
    fake.seed_card_orders(4)
    fake.seed_disputes(11, status="CLOSED")
    cards = CardListResponse200.from_dict(
        await get_json(client, f"/v3/spend/profiles/{pid}/cards", pageSize=10, pageNumber=3)
    )
    assert [c.token for c in cards.cards] == tokens[20:] and cards.total_count == 23
    orders = CardOrderListResponse200.from_dict(
        await get_json(client, f"/v3/spend/profiles/{pid}/card-orders")
    )
    assert len(orders.card_orders) == 4 and orders.total_count == 4
    disputes = DisputeListResponse200.from_dict(
        await get_json(
            client, f"/v3/spend/profiles/{pid}/disputes", status="CLOSED", pageSize=10, pageNumber=2
        )
    )
    assert len(disputes.disputes) == 1 and disputes.total_count == 11
    assert (await get_json(client, f"/v3/spend/profiles/{pid}/disputes", status="ACTIVE"))["totalCount"] == 0
    for bad in ({"pageSize": 9}, {"pageSize": 101}, {"pageNumber": 0}):
        assert (await client.get(f"/v3/spend/profiles/{pid}/cards", params=bad)).status_code == 400


async def test_kyc_reviews_are_a_bare_list(fake: FakeWise, client: httpx.AsyncClient, pid: int) -> None:
    ids = fake.seed_kyc_reviews(3)
    body = await get_json(client, f"/v1/profiles/{pid}/kyc-reviews", pageSize=2, pageNumber=2)
    assert [str(KYCReview.from_dict(r).id) for r in body] == ids[2:]


async def test_card_transactions_window_and_last_id(
    fake: FakeWise, client: httpx.AsyncClient, pid: int
) -> None:
    ids = fake.seed_card_transactions(30, every=86_400)  # one a day, the newest now
    token = fake.card_transactions.records()[0]["cardToken"]
    url = f"/v4/spend/profiles/{pid}/cards/{token}/transactions"
    window = {
        "fromCreationTime": iso(now(fake) - datetime.timedelta(days=9)),
        "toCreationTime": iso(now(fake)),
    }
    body = CardTransactionListResponse200.from_dict(await get_json(client, url, pageSize=10, **window))
    assert [t.id for t in body.transactions] == ids[:10]
    after = await get_json(client, url, pageSize=10, lastId=ids[4], **window)
    assert [t["id"] for t in after["transactions"]] == ids[5:10]
    assert (await client.get(url, params={"toCreationTime": window["toCreationTime"]})).status_code == 400
    too_long = {
        "fromCreationTime": iso(now(fake) - datetime.timedelta(days=90, seconds=1)),
        "toCreationTime": iso(now(fake)),
    }
    response = await client.get(url, params=too_long)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "INVALID_DATE_RANGE"
    assert (
        await client.get(f"/v4/spend/profiles/{pid}/cards/nope/transactions", params=window)
    ).status_code == 404


async def test_other_profiles_lists_are_forbidden(fake: FakeWise, client: httpx.AsyncClient) -> None:
    stranger = fake.add_profile("PERSONAL", user_id=fake.add_user())["id"]
    assert (await client.get(f"/v3/spend/profiles/{stranger}/cards")).status_code == 403


# ----------------------------------------------------------------------------- statements


async def test_statement_json_and_formats(fake: FakeWise, client: httpx.AsyncClient, pid: int) -> None:
    fake.sca_operations.clear()
    start = datetime.datetime(2025, 1, 1, tzinfo=UTC)
    balance = fake.seed_statement_transactions(6, start=start, end=start + datetime.timedelta(days=5))
    assert fake.balance_id(pid, "eur") == balance and fake.balance_of_id(balance) == (pid, "EUR")
    url = f"/v1/profiles/{pid}/balance-statements/{balance}/statement"
    window = {
        "currency": "EUR",
        "intervalStart": iso(start),
        "intervalEnd": iso(start + datetime.timedelta(days=2)),
    }
    statement = BalanceStatementGetResponse200.from_dict(await get_json(client, url + ".json", **window))
    assert len(statement.transactions) == 3  # days 0, 1, 2 (ends inclusive)
    assert statement.end_of_statement_balance.value == 160.0
    assert statement.query.account_id == balance
    for suffix, content_type in [("csv", "text/csv"), ("pdf", "application/pdf"), ("xml", "application/xml")]:
        response = await client.get(f"{url}.{suffix}", params=window)
        assert response.status_code == 200 and response.headers["content-type"] == content_type
    assert (await client.get(url + ".docx", params=window)).status_code == 404
    assert (await client.get(url + ".json", params={**window, "currency": "GBP"})).status_code == 400
    too_long = {**window, "intervalEnd": iso(start + datetime.timedelta(days=470))}
    assert (await client.get(url + ".json", params=too_long)).status_code == 400


async def test_every_statement_format_is_sca_gated(
    fake: FakeWise, client: httpx.AsyncClient, pid: int
) -> None:
    balance = fake.balance_id(pid, "EUR")
    params = {
        "currency": "EUR",
        "intervalStart": "2025-01-01T00:00:00Z",
        "intervalEnd": "2025-01-02T00:00:00Z",
    }
    for suffix in ("json", "mt940"):
        response = await client.get(
            f"/v1/profiles/{pid}/balance-statements/{balance}/statement.{suffix}", params=params
        )
        assert response.status_code == 403 and response.headers["x-2fa-approval"]


# ----------------------------------------------------------------------------- files


async def test_pdfs(fake: FakeWise, client: httpx.AsyncClient) -> None:
    (transfer,) = fake.seed_transfers(1, target_currency="INR")
    for path in ("receipt.pdf", "us-combined-receipt.pdf", "documents/noc"):
        response = await client.get(f"/v1/transfers/{transfer}/{path}")
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")


async def test_multipart_uploads_are_checked_and_recorded(
    fake: FakeWise, client: httpx.AsyncClient, pid: int
) -> None:
    url = f"/v3/profiles/{pid}/verification-status/upload-document"
    ok = await client.post(
        url, data={"documentType": "ID_PROOF"}, files={"files": ("id.pdf", b"%PDF-1.4", "application/pdf")}
    )
    assert ok.status_code == 204
    (upload,) = fake.uploads
    assert (upload.filename, upload.content_type, upload.content, upload.fields) == (
        "id.pdf",
        "application/pdf",
        b"%PDF-1.4",
        {"documentType": "ID_PROOF"},
    )
    wrong_type = await client.post(
        url, data={"documentType": "ID_PROOF"}, files={"files": ("id.gif", b"GIF", "image/gif")}
    )
    assert wrong_type.status_code == 415
    wrong_name = await client.post(
        url, data={"documentType": "ID_PROOF"}, files={"files": ("id.png", b"x", "application/pdf")}
    )
    assert wrong_name.status_code == 400
    bad_kind = await client.post(
        url, data={"documentType": "SELFIE"}, files={"files": ("id.pdf", b"x", "application/pdf")}
    )
    assert bad_kind.status_code == 400
    assert (await client.post(url, json={"files": "nope"})).status_code == 415
    dispute = await client.post(
        f"/v4/spend/profiles/{pid}/dispute-form/file",
        files={"receipt": ("r.jpg", b"\xff\xd8\xff", "image/jpeg")},
    )
    assert dispute.status_code == 200 and dispute.json() == {"receipt": fake.uploads[-1].file_id}
    assert len(fake.uploads) == 2


async def test_kyc_requirement_submit(fake: FakeWise, client: httpx.AsyncClient, pid: int) -> None:
    (review,) = fake.seed_kyc_reviews(1)
    url = f"/v2/profiles/{pid}/kyc-requirements/ACCOUNT_PURPOSE"
    submission = f'{{"data":{{"accountPurpose":"X"}},"version":"V1","kycReviewId":"{review}"}}'
    response = await client.post(
        url, files={"submissionData": (None, submission.encode(), "application/json")}
    )
    assert response.status_code == 202
    assert fake.kyc_reviews.get(review)["status"] == "PROCESSING"  # type: ignore[index]
    missing = await client.post(url, files={"other": (None, b"x")})
    assert missing.status_code == 400
    not_json = await client.post(url, files={"submissionData": (None, b"{nope")})
    assert not_json.status_code == 400
    unknown = await client.post(
        url, files={"submissionData": (None, b'{"version":"V1","kycReviewId":"nope"}')}
    )
    assert unknown.status_code == 404


def test_parse_multipart_keeps_binary_content_intact() -> None:
    content = b"\r\n--\x00\xff\r\n\r\nbinary"
    request = httpx.Request(
        "POST", SANDBOX, files={"f": ("a.bin", content, "application/octet-stream")}, data={"k": "v"}
    )
    parts = parse_multipart(request.headers["content-type"], request.read())
    assert [(p.name, p.filename, p.content) for p in parts] == [("k", None, b"v"), ("f", "a.bin", content)]
