"""A payout driven only through the SDK — quote, recipient, transfer, fund (SCA by PIN), then the sandbox's
simulation chain to outgoing_payment_sent — announced by FakeWise's own signed ``transfers#state-change``
deliveries to the example FastAPI service (``examples/fastapi_service.py``), subscribed through the API.

The same test body runs against the fake in-process (deliveries flushed into the receiver's ASGI app) and
against ``python -m wise_async.testing serve`` in another process (the fake POSTs to the receiver, served by
uvicorn, which verifies with the public key the fake printed).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from wise_api.models import (
    QuoteCreateBody,
    RecipientCreateRequest,
    RecipientCreateRequestDetails,
    TransferCreateBody,
    TransferFundBody,
)

from examples.fastapi_service import create_app
from wise_async import PartnerScaSolver, WiseClient
from wise_async.testing import FakeWise, serve_asgi

SANDBOX = "https://api.wise-sandbox.com"


@dataclass
class Payout:
    """What the test body may use: the SDK, the receiver, and the fake's record of its deliveries."""

    wise: WiseClient
    profile_id: int
    webhook_url: str
    receiver: httpx.AsyncClient
    settle: Callable[[], Awaitable[None]]
    """Until every delivery the fake owes has been attempted."""
    deliveries: Callable[[], Awaitable[list[dict[str, Any]]]]


def _client(token: str, profile_id: int, **where: Any) -> WiseClient:
    async def pin(challenge: Any) -> str:
        return "1234"  # the PIN the fake's user set

    return WiseClient(
        personal_token=token, sca_handler=PartnerScaSolver(profile_id=profile_id, pin=pin), **where
    )


async def _in_process() -> AsyncIterator[Payout]:
    fake = FakeWise()
    token, profile_id = fake.add_personal_token(), fake.personal_profile_id
    app = create_app(
        lambda: _client(token, profile_id, transport=fake.transport(), base_url=SANDBOX),
        webhook_public_keys=[fake.webhooks.public_key_b64],
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as receiver,
        _client(token, profile_id, transport=fake.transport(), base_url=SANDBOX) as wise,
    ):

        async def settle() -> None:
            await fake.webhooks.flush(receiver)

        async def deliveries() -> list[dict[str, Any]]:
            return [item.summary() for item in fake.webhooks.outbox]

        yield Payout(wise, profile_id, "https://payouts.example/wise/webhooks", receiver, settle, deliveries)


def _read_printed(proc: subprocess.Popen[str]) -> dict[str, str]:
    assert proc.stdout is not None
    printed: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while "WISE_FAKE_STATE_URL" not in printed and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if found := re.match(r"^(WISE_[A-Z_]+)=(\S+)$", line):
            printed[found.group(1)] = found.group(2)
    assert "WISE_FAKE_STATE_URL" in printed, f"the served fake printed {printed}"
    return printed


async def _served(tmp_path: Path) -> AsyncIterator[Payout]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wise_async.testing", "serve", "--port", "0", "--seed", "23"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        printed = _read_printed(proc)
        base_url, token, state_url = (
            printed["WISE_BASE_URL"],
            printed["WISE_API_TOKEN"],
            printed["WISE_FAKE_STATE_URL"],
        )
        async with httpx.AsyncClient() as http:
            profile_id = next(
                b["profileId"]
                for b in (await http.get(state_url, params={"only": "balances"})).json()["balances"]
            )
            app = create_app(
                lambda: _client(token, profile_id, base_url=base_url),
                webhook_public_keys=[printed["WISE_WEBHOOK_PUBLIC_KEY"]],  # the key the fake printed
            )
            async with (
                serve_asgi(app) as served,
                httpx.AsyncClient(base_url=served.base_url) as receiver,
                _client(token, profile_id, base_url=base_url) as wise,
            ):

                async def deliveries() -> list[dict[str, Any]]:
                    found: list[dict[str, Any]] = (
                        await http.get(state_url, params={"only": "deliveries"})
                    ).json()["deliveries"]
                    return found

                async def settle() -> None:
                    with anyio.fail_after(10):
                        while any(d["state"] == "pending" for d in await deliveries()):
                            await anyio.sleep(0.02)

                yield Payout(
                    wise, profile_id, f"{served.base_url}/wise/webhooks", receiver, settle, deliveries
                )
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(params=["in-process", "served"])
async def payout(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Payout]:
    environment = _in_process() if request.param == "in-process" else _served(tmp_path)
    async for ready in environment:
        yield ready


async def test_a_payout_is_announced_by_signed_state_changes_that_agree_with_transfers_get(
    payout: Payout,
) -> None:
    wise, profile_id = payout.wise, payout.profile_id
    subscription = await wise.webhooks.profile_subscription_create(
        profile_id,
        body={
            "name": "payouts",
            "trigger_on": "transfers#state-change",
            "delivery": {"version": "4.0.0", "url": payout.webhook_url},
        },
    )
    quote = await wise.quotes.create(
        profile_id,
        body=QuoteCreateBody(source_currency="GBP", target_currency="EUR", source_amount=Decimal("100")),
    )
    recipient = await wise.recipients.create(
        body=RecipientCreateRequest(
            currency="EUR",
            type_="iban",
            profile=profile_id,
            account_holder_name="Grace Hopper",
            details=RecipientCreateRequestDetails.from_dict(
                {"legalType": "PRIVATE", "iban": "DE89370400440532013000"}
            ),
        )
    )
    transfer = await wise.transfers.create(
        body=TransferCreateBody(
            target_account=recipient.id, quote_uuid=quote.id, customer_transaction_id=uuid.uuid4()
        )
    )

    async def announced(state: str) -> None:
        """The receiver heard ``state`` (verified, by webhook) and transfers.get says the same."""
        await payout.settle()
        shown = (await payout.receiver.get(f"/transfers/{transfer.id}")).json()  # transfers.get, via the SDK
        assert (shown["status"], shown["lastWebhookState"]) == (state, state)
        assert (await wise.transfers.get(transfer.id)).status == state

    payment = await wise.transfers.fund(profile_id, transfer.id, body=TransferFundBody(type_="BALANCE"))
    assert payment.status == "COMPLETED"
    await announced("processing")
    for state in ("processing", "funds_converted", "outgoing_payment_sent"):
        answer = await wise.simulation.transfer_state_change(transfer.id, state)  # type: ignore[arg-type]
        assert isinstance(answer, dict) and (answer["id"], answer["status"]) == (transfer.id, state)
        await announced(state)

    deliveries = await payout.deliveries()
    assert [
        (d["body"]["data"]["previous_state"], d["body"]["data"]["current_state"]) for d in deliveries
    ] == [
        ("incoming_payment_waiting", "processing"),
        ("processing", "funds_converted"),
        ("funds_converted", "outgoing_payment_sent"),
    ]
    for delivery in deliveries:  # each verified by the receiver (a bad signature answers 400)
        assert (delivery["state"], delivery["attempts"]) == ("delivered", ["200"])
        assert delivery["subscription_id"] == delivery["body"]["subscription_id"] == str(subscription.id)
        assert delivery["body"]["data"]["resource"]["id"] == transfer.id
