"""The same real-socket flows under trio: nothing in the reliability layer is tied to asyncio."""

from __future__ import annotations

import uuid

import anyio
import pytest
import sniffio
from bundle_paths import path_of
from client.helpers import quote_and_recipient
from wise_api.models import TransferCreateBody

from wise_async import APITimeoutError, InProcessRateLimiter
from wise_async.testing import FakeWise

from .conftest import personal_client, user_client
from .servers import FaultProxy, close_mid_body, stall


def test_refresh_and_a_retried_cut_body_under_trio(fake: FakeWise, proxy: FaultProxy) -> None:
    results: list[object] = []

    async def main() -> None:
        assert sniffio.current_async_library() == "trio"
        async with user_client(fake, proxy) as wise:
            fake.revoke_token(wise.user_tokens.access_token)  # type: ignore[union-attr]

            async def call() -> None:
                results.append(await wise.profiles.list())

            async with anyio.create_task_group() as group:
                for _ in range(20):
                    group.start_soon(call)
        async with personal_client(fake, proxy) as wise:
            quote_id, recipient_id = await quote_and_recipient(wise, fake)
            proxy.add(close_mid_body(), method="POST", path_prefix=path_of("transferCreate"))
            body = TransferCreateBody.from_dict(
                {
                    "targetAccount": recipient_id,
                    "quoteUuid": str(quote_id),
                    "customerTransactionId": str(uuid.uuid4()),
                }
            )
            results.append(await wise.transfers.create(body=body))

    anyio.run(main, backend="trio")
    assert len(results) == 21
    refreshes = [c for c in fake.calls("oauthTokenCreate") if b"grant_type=refresh_token" in c.body]
    assert len(refreshes) == 1
    assert len(fake.transfers) == 1 and proxy.count("POST", path_of("transferCreate")) == 2


def test_the_call_budget_under_trio_bounds_a_stall_and_waits_while_rate_limited(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    """On trio the budget is an anyio cancel scope (asyncio uses asyncio.timeout): same two promises."""
    answered: list[object] = []

    async def main() -> None:
        async with personal_client(fake, proxy, rate_limiter=InProcessRateLimiter(rate=20, burst=1)) as wise:

            async def call() -> None:
                answered.append(await wise.profiles.list(timeout=0.5))

            async with anyio.create_task_group() as group:
                for _ in range(20):  # ~1 s queued at 20/s, each call with a 0.5 s budget
                    group.start_soon(call)
            proxy.add(stall(5), method="GET", path_prefix=path_of("profileList"), times=None)
            started = anyio.current_time()
            with pytest.raises(APITimeoutError, match="1s budget"):
                await wise.profiles.list(timeout=1.0, max_retries=5)
            assert anyio.current_time() - started < 5  # the stall was not waited out

    anyio.run(main, backend="trio")
    assert len(answered) == 20
    assert proxy.count("GET", path_of("profileList")) == 21
