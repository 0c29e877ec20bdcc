"""Errors from Wise end to end: the right class, parsed details, ids, and a message led by the trace id."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from wise_api.models import QuoteCreateBody, TransferCreateBody

from wise_async import (
    APIStatusError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    UnprocessableEntityError,
    WiseError,
)
from wise_async.testing import FakeWise

from .helpers import new_fake, quote_and_recipient, user_client


@pytest.fixture
def fake() -> FakeWise:
    return new_fake()


def check_common(err: APIStatusError, fake: FakeWise, status: int) -> None:
    record = fake.requests[-1]
    assert err.status_code == status == record.status
    assert err.trace_id == record.response_headers["x-trace-id"]
    assert err.correlation_id == record.headers["x-external-correlation-id"]
    assert str(err).startswith(f"[trace_id={err.trace_id}] {status} ")
    assert isinstance(err, WiseError)
    token = record.headers["authorization"].split(" ", 1)[1]
    assert token not in str(err) and token not in repr(err)


async def test_422_validation(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        with pytest.raises(UnprocessableEntityError) as caught:
            await wise.quotes.create(
                fake.personal_profile_id,
                body=QuoteCreateBody(
                    source_currency="GBP", target_currency="EURO", source_amount=Decimal("10.0")
                ),
            )
    err = caught.value
    check_common(err, fake, 422)
    assert [(e.code, e.message, e.path) for e in err.errors] == [
        ("NOT_VALID", "targetCurrency must be an ISO 4217 code.", "targetCurrency")
    ]
    assert "targetCurrency must be an ISO 4217 code." in str(err)


async def test_409_conflict(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        quote_id, recipient_id = await quote_and_recipient(wise, fake)
        key = uuid.uuid4()
        await wise.transfers.create(
            body=TransferCreateBody(
                target_account=recipient_id, quote_uuid=quote_id, customer_transaction_id=key
            )
        )
        other_quote, _ = await quote_and_recipient(wise, fake)
        with pytest.raises(ConflictError) as caught:  # same key, different transfer
            await wise.transfers.create(
                body=TransferCreateBody(
                    target_account=recipient_id, quote_uuid=other_quote, customer_transaction_id=key
                )
            )
    err = caught.value
    check_common(err, fake, 409)
    assert [(e.code, e.path) for e in err.errors] == [
        ("DUPLICATE_CUSTOMER_TRANSACTION_ID", "customerTransactionId")
    ]
    assert len(fake.transfers) == 1


async def test_404_not_found(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        with pytest.raises(NotFoundError) as caught:
            await wise.profiles.get(12345)
    err = caught.value
    check_common(err, fake, 404)
    assert [(e.code, e.message) for e in err.errors] == [("NOT_FOUND", "Profile 12345 not found.")]


async def test_500_server_error(fake: FakeWise) -> None:
    fake.faults.server_error(500, operation="profileList")
    async with user_client(fake) as wise:
        with pytest.raises(InternalServerError) as caught:
            await wise.profiles.list()
    err = caught.value
    check_common(err, fake, 500)
    assert err.errors and err.errors[0].message == "Injected by FakeWise"


async def test_gateway_html_body_still_gives_a_useful_error(fake: FakeWise) -> None:
    fake.faults.server_error(502, operation="quoteCreate")
    async with user_client(fake) as wise:
        with pytest.raises(InternalServerError) as caught:
            await wise.quotes.create(
                fake.personal_profile_id,
                body=QuoteCreateBody(
                    source_currency="GBP", target_currency="EUR", source_amount=Decimal("10.0")
                ),
            )
    check_common(caught.value, fake, 502)
    assert "<html>" not in str(caught.value)
