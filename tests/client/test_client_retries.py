"""Retries: 429 and Retry-After, backoff, 5xx and connection errors, and money moving exactly once."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest
from bundle_paths import path_of
from wise_api.models import (
    Balance,
    BalanceCreateBody,
    BalanceType,
    QuoteCreateBody,
    StandardTransfer,
    TransferCreateBody,
)

from wise_async import (
    APIConnectionError,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
    WiseClient,
)
from wise_async._transport import RetryingTransport
from wise_async.testing import FakeWise

from .helpers import (
    RecordingSleep,
    new_fake,
    personal_client,
    quote_and_recipient,
    raw_transfer_body,
)

NO_WAIT = RetryPolicy(initial_delay=0)
QUOTE_BODY = QuoteCreateBody(source_currency="GBP", target_currency="EUR", source_amount=Decimal("10.0"))


@pytest.fixture
def fake() -> FakeWise:
    return new_fake()


def sleeping_client(
    fake: FakeWise, sleep: RecordingSleep, policy: RetryPolicy | None = None, jitter_draw: float = 0.0
) -> WiseClient:
    """WiseClient over a RetryingTransport whose sleep and randomness the test controls.

    The client's own retrying layer is switched off (max_retries=0) so the injected one decides.
    """
    transport = RetryingTransport(
        fake.transport(), policy=policy or RetryPolicy(), sleep=sleep, random_fn=lambda: jitter_draw
    )
    return personal_client(fake, transport=transport, max_retries=0)


def statuses(fake: FakeWise, operation_id: str) -> list[int | None]:
    return [r.status for r in fake.calls(operation_id)]


# --------------------------------------------------------------------------- 429


async def test_429_retry_after_is_honoured(fake: FakeWise) -> None:
    fake.faults.rate_limit(retry_after=3, operation="profileList")
    sleep = RecordingSleep()
    async with sleeping_client(fake, sleep) as wise:
        assert len(await wise.profiles.list()) == 2
    assert sleep.delays == [3.0]
    assert statuses(fake, "profileList") == [429, 200]


async def test_429_retry_after_really_waits(fake: FakeWise) -> None:
    fake.faults.rate_limit(retry_after="0.05", operation="profileList")
    async with personal_client(fake) as wise:
        started = time.monotonic()
        await wise.profiles.list()
        elapsed = time.monotonic() - started
    assert elapsed >= 0.04
    assert statuses(fake, "profileList") == [429, 200]


async def test_429_without_retry_after_backs_off_exponentially(fake: FakeWise) -> None:
    fake.faults.rate_limit(operation="profileList", times=2)
    sleep = RecordingSleep()
    async with sleeping_client(fake, sleep) as wise:
        await wise.profiles.list()
    assert sleep.delays == [0.5, 1.0]
    assert statuses(fake, "profileList") == [429, 429, 200]


async def test_backoff_jitter_and_cap(fake: FakeWise) -> None:
    fake.faults.rate_limit(operation="profileList", times=3)
    sleep = RecordingSleep()
    policy = RetryPolicy(max_retries=3, initial_delay=3.0, max_delay=8.0, jitter=0.5)
    async with sleeping_client(fake, sleep, policy, jitter_draw=0.5) as wise:
        await wise.profiles.list()
    assert sleep.delays == [3.0 * 0.75, 6.0 * 0.75, 8.0 * 0.75]


async def test_429_on_a_post_is_retried(fake: FakeWise) -> None:
    # Wise did not process a rate-limited request, so even an unkeyed POST may be sent again
    fake.faults.rate_limit(operation="quoteCreate")
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        await wise.quotes.create(fake.personal_profile_id, body=QUOTE_BODY)
    assert statuses(fake, "quoteCreate") == [429, 200]
    assert len(fake.quotes) == 1


async def test_429_end_to_end_with_zero_delay(fake: FakeWise) -> None:
    fake.faults.rate_limit(operation="profileList", times=2)
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        await wise.profiles.list()
    assert statuses(fake, "profileList") == [429, 429, 200]


async def test_429_exhausted_raises_rate_limit_error(fake: FakeWise) -> None:
    fake.faults.rate_limit(operation="profileList", times=None)
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        with pytest.raises(RateLimitError) as caught:
            await wise.profiles.list()
    assert statuses(fake, "profileList") == [429, 429, 429]
    assert caught.value.retry_after is None
    assert caught.value.rate_limited_by == "client-id"


async def test_retry_after_above_cap_raises_immediately(fake: FakeWise) -> None:
    fake.faults.rate_limit(retry_after=120, operation="profileList")
    started = time.monotonic()
    async with personal_client(fake) as wise:
        with pytest.raises(RateLimitError) as caught:
            await wise.profiles.list()
    assert time.monotonic() - started < 1
    assert statuses(fake, "profileList") == [429]
    assert caught.value.retry_after == 120.0
    assert caught.value.status_code == 429


# --------------------------------------------------------------------------- 5xx and connection errors


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_errors_on_get_are_retried(fake: FakeWise, status: int) -> None:
    fake.faults.server_error(status, operation="profileList")
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        assert len(await wise.profiles.list()) == 2
    first, second = fake.calls("profileList")
    assert (first.status, second.status) == (status, 200)
    assert first.headers["x-external-correlation-id"] == second.headers["x-external-correlation-id"]


async def test_500_is_not_retried(fake: FakeWise) -> None:
    fake.faults.server_error(500, operation="profileList")
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        with pytest.raises(InternalServerError):
            await wise.profiles.list()
    assert statuses(fake, "profileList") == [500]


async def test_connect_error_on_get_is_retried(fake: FakeWise) -> None:
    fake.faults.reset_before_commit(operation="profileList")
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        await wise.profiles.list()
    assert statuses(fake, "profileList") == [None, 200]


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_error_on_unkeyed_post_is_not_retried(fake: FakeWise, status: int) -> None:
    fake.faults.server_error(status, operation="quoteCreate")
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        with pytest.raises(InternalServerError) as caught:
            await wise.quotes.create(fake.personal_profile_id, body=QUOTE_BODY)
    assert caught.value.status_code == status
    assert statuses(fake, "quoteCreate") == [status]


async def test_connect_error_on_unkeyed_post_is_not_retried(fake: FakeWise) -> None:
    fake.faults.reset_before_commit(operation="quoteCreate")
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        with pytest.raises(APIConnectionError) as caught:
            await wise.quotes.create(fake.personal_profile_id, body=QUOTE_BODY)
    assert caught.value.request is not None and caught.value.request.method == "POST"
    assert statuses(fake, "quoteCreate") == [None]
    assert len(fake.quotes) == 0


async def test_reset_after_commit_on_unkeyed_post_is_not_retried(fake: FakeWise) -> None:
    fake.faults.reset_after_commit(operation="quoteCreate")
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        with pytest.raises(APIConnectionError):
            await wise.quotes.create(fake.personal_profile_id, body=QUOTE_BODY)
    assert len(fake.calls("quoteCreate")) == 1
    assert len(fake.quotes) == 1  # Wise did act: a blind retry would have made two


async def test_gateway_error_on_keyed_post_is_retried(fake: FakeWise) -> None:
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        quote_id, recipient_id = await quote_and_recipient(wise, fake)
        fake.faults.server_error(503, operation="transferCreate")
        key = uuid.uuid4()
        transfer = await wise.transfers.create(
            body=TransferCreateBody(
                target_account=recipient_id, quote_uuid=quote_id, customer_transaction_id=key
            )
        )
    first, second = fake.calls("transferCreate")
    assert (first.status, second.status) == (503, 200)
    assert first.body == second.body and json.loads(second.body)["customerTransactionId"] == str(key)
    assert len(fake.transfers) == 1 and transfer.id in fake.transfers


async def test_header_keyed_post_is_retried_with_the_same_key(fake: FakeWise) -> None:
    balance = {"id": 7, "currency": "EUR", "type": "STANDARD", "visible": True}
    fake.faults.server_error(503, operation=None, path=path_of("balanceCreate"))
    fake.faults.add("status", status=201, path=path_of("balanceCreate"), body=json.dumps(balance).encode())
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        created = await wise.balances.create(
            fake.personal_profile_id, body=BalanceCreateBody(currency="EUR", type_=BalanceType.STANDARD)
        )
    assert isinstance(created, Balance) and created.id == 7
    first, second = [r for r in fake.requests if r.path.endswith("/balances")]
    assert (first.status, second.status) == (503, 201)
    key = first.headers["x-idempotence-uuid"]
    assert uuid.UUID(key) and second.headers["x-idempotence-uuid"] == key


# --------------------------------------------------------------------------- exactly one transfer


async def test_reset_after_commit_creates_exactly_one_transfer(fake: FakeWise) -> None:
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        body = await raw_transfer_body(wise, fake)
        assert "customerTransactionId" not in body
        fake.faults.reset_after_commit(method="POST", path=path_of("transferCreate"), times=2)
        response = await wise.http_client.post(path_of("transferCreate"), json=body)
    assert response.status_code == 200
    attempts = fake.calls("transferCreate")
    assert len(attempts) == 3 and [r.fault for r in attempts] == ["reset_after_commit"] * 2 + [None]
    keys = {json.loads(r.body)["customerTransactionId"] for r in attempts}
    assert len(keys) == 1
    (key,) = keys
    assert uuid.UUID(key)
    assert len({r.body for r in attempts}) == 1  # byte-identical attempts
    assert len(fake.transfers) == 1
    assert fake.counters["transfer_idempotent_replay"] == 2
    assert response.json()["customerTransactionId"] == key
    assert response.json()["id"] in fake.transfers


async def test_reset_after_commit_through_the_facade(fake: FakeWise) -> None:
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        quote_id, recipient_id = await quote_and_recipient(wise, fake)
        fake.faults.reset_after_commit(operation="transferCreate")
        key = uuid.uuid4()
        raw = await wise.transfers.with_raw_response.create(
            body=TransferCreateBody(
                target_account=recipient_id, quote_uuid=quote_id, customer_transaction_id=key
            )
        )
    assert isinstance(raw.parsed, StandardTransfer)
    assert raw.idempotency_key == str(key)
    assert len(fake.calls("transferCreate")) == 2
    assert [t for t in fake.transfers] == [raw.parsed.id]


async def test_retries_give_up_after_max_retries(fake: FakeWise) -> None:
    fake.faults.reset_after_commit(operation="transferCreate", times=None)
    body: dict[str, Any]
    async with personal_client(fake, retry_policy=NO_WAIT) as wise:
        body = await raw_transfer_body(wise, fake)
        with pytest.raises(APIConnectionError):
            await wise.transfers.create(
                body=TransferCreateBody.from_dict({**body, "customerTransactionId": str(uuid.uuid4())})
            )
    assert len(fake.calls("transferCreate")) == 3
    assert len(fake.transfers) == 1
