"""The core flows under trio (anyio backend), from plain sync tests: nothing is tied to asyncio."""

from __future__ import annotations

import json
from decimal import Decimal

import anyio
import sniffio
from bundle_paths import path_of
from cryptography.hazmat.primitives.asymmetric import rsa

from wise_async import PrivateKeyScaSigner, RetryPolicy, ScaRequiredError

from .helpers import (
    TRANSFER_AMOUNT,
    fund_body,
    new_fake,
    new_transfer,
    public_pem,
    raw_transfer_body,
    user_client,
)

START = Decimal("10000.00")


def test_refresh_single_flight_under_trio() -> None:
    fake = new_fake()
    results: list[int] = []

    async def main() -> None:
        assert sniffio.current_async_library() == "trio"
        async with user_client(fake) as wise:
            fake.clock.advance(12 * 3600 + 1)

            async def call() -> None:
                results.append(len(await wise.profiles.list()))

            async with anyio.create_task_group() as tg:
                for _ in range(50):
                    tg.start_soon(call)

    anyio.run(main, backend="trio")
    assert results == [2] * 50
    assert fake.counters["refresh"] == 1


def test_401_refresh_under_trio() -> None:
    fake = new_fake()

    async def main() -> None:
        async with user_client(fake, know_expiry=False) as wise:
            fake.clock.advance(12 * 3600 + 1)
            await wise.profiles.list()

    anyio.run(main, backend="trio")
    assert [(r.operation_id, r.status) for r in fake.requests] == [
        ("profileList", 401),
        ("oauthTokenCreate", 200),
        ("profileList", 200),
    ]


def test_sca_signing_and_resume_under_trio(rsa_key: rsa.RSAPrivateKey) -> None:
    fake = new_fake()
    fake.register_sca_public_key(public_pem(rsa_key))

    async def main() -> None:
        async with user_client(fake, sca_handler=PrivateKeyScaSigner(rsa_key)) as wise:
            transfer = await new_transfer(wise, fake)
            await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
        async with user_client(fake) as wise:
            transfer = await new_transfer(wise, fake)
            try:
                await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
            except ScaRequiredError as err:
                fake.approve_ott(err.one_time_token)
                await err.resume()
            else:
                raise AssertionError("SCA was not demanded")

    anyio.run(main, backend="trio")
    assert fake.balance(fake.personal_profile_id, "GBP") == START - 2 * TRANSFER_AMOUNT
    assert [r.status for r in fake.calls("transferFund")] == [403, 200, 403, 200]


def test_retries_under_trio() -> None:
    fake = new_fake()

    async def main() -> None:
        async with user_client(fake, retry_policy=RetryPolicy(initial_delay=0)) as wise:
            fake.faults.rate_limit(operation="profileList")
            fake.faults.server_error(503, operation="profileList")
            await wise.profiles.list()
            body = await raw_transfer_body(wise, fake)
            fake.faults.reset_after_commit(operation="transferCreate")
            response = await wise.http_client.post(path_of("transferCreate"), json=body)
            assert response.status_code == 200

    anyio.run(main, backend="trio")
    assert [r.status for r in fake.calls("profileList")] == [429, 503, 200]
    attempts = fake.calls("transferCreate")
    assert len(attempts) == 2
    assert len({json.loads(r.body)["customerTransactionId"] for r in attempts}) == 1
    assert len(fake.transfers) == 1


def test_retry_after_sleep_under_trio() -> None:
    fake = new_fake()

    async def main() -> None:
        async with user_client(fake) as wise:
            fake.faults.rate_limit(operation="profileList", retry_after="0.02")
            started = anyio.current_time()
            await wise.profiles.list()
            assert anyio.current_time() - started >= 0.015

    anyio.run(main, backend="trio")
    assert [r.status for r in fake.calls("profileList")] == [429, 200]
