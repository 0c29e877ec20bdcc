"""Idempotency keys: X-idempotence-uuid on the header operations, body keys on transfer creation."""

from __future__ import annotations

import json
import sys
import uuid
import warnings

import pytest
from bundle_paths import path_of
from wise_api.models import BalanceCreateBody, BalanceType, TransferCreateBody

from wise_async import WiseClient
from wise_async.testing import FakeWise, RecordedRequest

from .helpers import (
    new_fake,
    personal_client,
    quote_and_recipient,
    raw_transfer_body,
    send_ignoring_answer,
)

BALANCES = path_of("balanceCreate")


@pytest.fixture
def fake() -> FakeWise:
    return new_fake()


def only(fake: FakeWise, path_suffix: str) -> RecordedRequest:
    (record,) = [r for r in fake.requests if r.path.endswith(path_suffix)]
    return record


def balance_body() -> BalanceCreateBody:
    return BalanceCreateBody(currency="EUR", type_=BalanceType.STANDARD)


# --------------------------------------------------------------------------- header operations


async def test_required_header_is_minted_by_the_facade(fake: FakeWise) -> None:
    async with personal_client(fake) as wise:
        await send_ignoring_answer(wise.balances.create(fake.personal_profile_id, body=balance_body()))
        await send_ignoring_answer(wise.balances.create(fake.personal_profile_id, body=balance_body()))
    first, second = [r for r in fake.requests if r.path.endswith("/balances")]
    keys = [uuid.UUID(first.headers["x-idempotence-uuid"]), uuid.UUID(second.headers["x-idempotence-uuid"])]
    assert keys[0] != keys[1]  # one key per logical call


async def test_callers_own_header_key_is_kept(fake: FakeWise) -> None:
    mine = uuid.uuid4()
    async with personal_client(fake) as wise:
        await send_ignoring_answer(
            wise.balances.create(fake.personal_profile_id, body=balance_body(), x_idempotence_uuid=mine)
        )
    assert only(fake, "/balances").headers["x-idempotence-uuid"] == str(mine)


async def test_required_header_is_added_to_raw_requests_too(fake: FakeWise) -> None:
    async with personal_client(fake) as wise:
        await wise.http_client.post(
            path_of("balanceCreate", profileId=fake.personal_profile_id),
            json={"currency": "EUR", "type": "STANDARD"},
        )
    assert uuid.UUID(only(fake, "/balances").headers["x-idempotence-uuid"])


async def test_header_key_is_exposed_on_the_raw_response(fake: FakeWise) -> None:
    body = json.dumps({"id": 3, "currency": "EUR", "type": "STANDARD"}).encode()
    fake.faults.add("status", status=201, path=BALANCES, body=body)
    async with personal_client(fake) as wise:
        raw = await wise.balances.with_raw_response.create(fake.personal_profile_id, body=balance_body())
    assert raw.status_code == 201
    assert raw.idempotency_key == only(fake, "/balances").headers["x-idempotence-uuid"]


@pytest.mark.parametrize("enabled", [True, False])
async def test_optional_header_on_by_default_off_on_request(fake: FakeWise, enabled: bool) -> None:
    token = fake.add_personal_token()
    async with WiseClient(
        personal_token=token, transport=fake.transport(), optional_idempotency_headers=enabled
    ) as wise:
        await send_ignoring_answer(wise.profiles.personal_create())
    record = only(fake, path_of("profilePersonalCreate"))
    assert record.method == "POST"
    if enabled:
        assert uuid.UUID(record.headers["x-idempotence-uuid"])
    else:
        assert "x-idempotence-uuid" not in record.headers


async def test_optional_header_given_by_the_caller_is_sent_even_when_off(fake: FakeWise) -> None:
    mine = uuid.uuid4()
    async with personal_client(fake, optional_idempotency_headers=False) as wise:
        await send_ignoring_answer(wise.profiles.personal_create(x_idempotence_uuid=mine))
    assert only(fake, path_of("profilePersonalCreate")).headers["x-idempotence-uuid"] == str(mine)


# --------------------------------------------------------------------------- body keys


async def test_customer_transaction_id_is_added_when_absent(fake: FakeWise) -> None:
    async with personal_client(fake) as wise:
        body = await raw_transfer_body(wise, fake)
        response = await wise.http_client.post(path_of("transferCreate"), json=body)
    assert response.status_code == 200
    sent = json.loads(only(fake, path_of("transferCreate")).body)
    key = sent.pop("customerTransactionId")
    assert uuid.UUID(key)
    assert sent == body  # nothing else changed
    assert response.json()["customerTransactionId"] == key


async def test_callers_customer_transaction_id_is_kept(fake: FakeWise) -> None:
    async with personal_client(fake) as wise:
        quote_id, recipient_id = await quote_and_recipient(wise, fake)
        key = uuid.uuid4()
        raw = await wise.transfers.with_raw_response.create(
            body=TransferCreateBody(
                target_account=recipient_id, quote_uuid=quote_id, customer_transaction_id=key
            )
        )
    assert json.loads(only(fake, path_of("transferCreate")).body)["customerTransactionId"] == str(key)
    assert raw.idempotency_key == str(key)
    assert raw.parsed.customer_transaction_id == key


async def test_original_transfer_id_is_added_when_absent_and_kept_when_given(fake: FakeWise) -> None:
    path = path_of("transferThirdPartyCreate", profileId=fake.business_profile_id)
    body = {"targetAccount": 1, "quote": "q", "originator": {"legalEntityType": "PRIVATE"}}
    async with personal_client(fake) as wise:
        await wise.http_client.post(path, json=body)
        await wise.http_client.post(path, json={**body, "originalTransferId": "my-own-id"})
    minted, given = [json.loads(r.body) for r in fake.requests]
    assert uuid.UUID(minted.pop("originalTransferId")) and minted == body
    assert given["originalTransferId"] == "my-own-id"


async def test_no_key_is_invented_for_operations_without_one(fake: FakeWise) -> None:
    async with personal_client(fake) as wise:
        await quote_and_recipient(wise, fake)
    for record in fake.requests:
        assert "x-idempotence-uuid" not in record.headers
        assert "customerTransactionId" not in json.loads(record.body)


def test_filling_a_body_key_keeps_every_amount_literal_exact() -> None:
    """The SDK rewrites the JSON body to add customerTransactionId: numbers must not pass through float."""
    import httpx
    from wise_api.operations import OPERATIONS

    from wise_async._idempotency import apply_idempotency

    spec = next(op for op in OPERATIONS if op.operation_id == "transferCreate")
    sent = b'{"targetAccount":1,"amount":12345678901234567.89,"fee":100.10}'
    request = httpx.Request(
        "POST",
        "https://api.wise-sandbox.com/v1/transfers",
        content=sent,
        headers={"content-type": "application/json"},
    )
    rebuilt = apply_idempotency(request, spec)
    assert rebuilt.content.startswith(sent[:-1] + b',"customerTransactionId":"')


# --------------------------------------------------------------------------- minted keys


def test_minted_keys_are_random_version_4_uuids_in_canonical_text() -> None:
    from wise_async._idempotency import random_uuid_text

    keys = [random_uuid_text() for _ in range(2000)]
    assert len(set(keys)) == len(keys)
    for key in keys:
        parsed = uuid.UUID(key)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == key
    # every one of the 122 random bits varies across the sample (none stuck at 0 or 1)
    values = [uuid.UUID(key).int for key in keys]
    fixed = (0xF000 << 64) | (0xC000 << 48)
    varying = 0
    for bit in range(128):
        seen = {(v >> bit) & 1 for v in values}
        varying += len(seen) == 2
    assert varying == 128 - bin(fixed).count("1")


def test_minted_keys_differ_across_threads_and_forked_processes() -> None:
    """Each key reads its own bytes from the OS: no two threads, and no pre-fork server's workers, share
    a key (read-ahead random bytes would be repeated by every worker a fork copies them into)."""
    import concurrent.futures
    import multiprocessing

    from wise_async._idempotency import random_uuid_text

    random_uuid_text()  # the parent has unread random digits when it forks
    with warnings.catch_warnings():  # 3.12+ warns about forking a process that has (other tests') threads
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        with multiprocessing.get_context("fork").Pool(4) as workers:
            per_process = workers.map(_keys_of_a_worker, range(4))
    with concurrent.futures.ThreadPoolExecutor(8) as threads:
        per_thread = list(threads.map(lambda _: [random_uuid_text() for _ in range(300)], range(8)))
    parent = [random_uuid_text() for _ in range(300)]
    keys = [key for batch in (*per_thread, *per_process, parent) for key in batch]
    assert len(keys) == 300 * 13 and len(set(keys)) == len(keys)


def _keys_of_a_worker(_: int) -> list[str]:
    from wise_async._idempotency import random_uuid_text

    return [random_uuid_text() for _ in range(300)]


@pytest.mark.skipif(sys.platform != "linux", reason="a fork by libc, as uWSGI's workers are made")
def test_a_worker_forked_without_pythons_fork_hooks_mints_its_own_keys() -> None:
    """uWSGI forks its workers from C without ``os.register_at_fork``'s hooks (unless told to): a key
    source that kept state across the fork would hand every worker the master's next keys."""
    import ctypes
    import os

    from wise_async._idempotency import random_uuid_text

    random_uuid_text()  # the master minted a key at start-up
    libc = ctypes.CDLL(None, use_errno=True)
    read_end, write_end = os.pipe()
    pid = libc.fork()
    if pid == 0:  # the worker: nothing but the key, then out without running the parent's cleanup
        os.write(write_end, random_uuid_text().encode())
        os._exit(0)
    os.close(write_end)
    worker_key = os.read(read_end, 64).decode()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert len(worker_key) == 36 and worker_key != random_uuid_text()
