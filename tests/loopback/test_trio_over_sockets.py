"""The same real-socket flows under trio: nothing in the reliability layer is tied to asyncio."""

from __future__ import annotations

import uuid

import anyio
import sniffio
from bundle_paths import path_of
from wise_api.models import TransferCreateBody

from wise_async.testing import FakeWise

from .conftest import personal_client, user_client
from .servers import FaultProxy, close_mid_body
from .test_faults_over_sockets import _quote_and_recipient


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
            quote_id, recipient_id = await _quote_and_recipient(wise, fake)
            proxy.add(close_mid_body(), method="POST", path_prefix=path_of("transferCreate"))
            body = TransferCreateBody.from_dict(
                {
                    "targetAccount": recipient_id,
                    "quoteUuid": quote_id,
                    "customerTransactionId": str(uuid.uuid4()),
                }
            )
            results.append(await wise.transfers.create(body=body))

    anyio.run(main, backend="trio")
    assert len(results) == 21
    refreshes = [c for c in fake.calls("oauthTokenCreate") if b"grant_type=refresh_token" in c.body]
    assert len(refreshes) == 1
    assert len(fake.transfers) == 1 and proxy.count("POST", path_of("transferCreate")) == 2
