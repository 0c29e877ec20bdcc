"""The example FastAPI service (``examples/fastapi_service.py``) served by uvicorn over loopback, with
FakeWise served the same way behind it: 200 concurrent requests, every answer checked."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from wise_api import wire
from wise_api.models import (
    BusinessProfile,
    PersonalProfile,
    Quote,
    QuoteCreateBody,
    RecipientCreateRequest,
    RecipientCreateRequestDetails,
    StandardTransfer,
    TransferCreateBody,
)

from examples.fastapi_service import create_app
from wise_async import WiseClient
from wise_async.testing import FakeWise, ServedApp, serve_asgi

from .conftest import FIGURES

CONCURRENT = 200


@dataclass
class Service:
    fake: FakeWise
    url: str
    wise_url: str
    clients_made: list[WiseClient]
    transfer_id: int


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    fake = FakeWise()
    token = fake.add_personal_token()
    made: list[WiseClient] = []
    async with serve_asgi(fake.asgi_app) as wise_server:

        def make_client() -> WiseClient:
            made.append(WiseClient(personal_token=token, base_url=wise_server.base_url))
            return made[-1]

        app = create_app(make_client, webhook_public_keys=[fake.webhooks.public_key_b64])
        async with serve_asgi(app) as served:
            transfer_id = await _a_transfer(fake, token, wise_server)
            yield Service(fake, served.base_url, wise_server.base_url, made, transfer_id)


async def _a_transfer(fake: FakeWise, token: str, server: ServedApp) -> int:
    async with WiseClient(personal_token=token, base_url=server.base_url) as wise:
        quote = await wise.quotes.create(
            fake.personal_profile_id,
            body=QuoteCreateBody(source_currency="GBP", target_currency="EUR", source_amount=Decimal("100")),
        )
        recipient = await wise.recipients.create(
            body=RecipientCreateRequest(
                currency="EUR",
                type_="iban",
                profile=fake.personal_profile_id,
                account_holder_name="Grace Hopper",
                details=RecipientCreateRequestDetails.from_dict(
                    {"legalType": "PRIVATE", "iban": "DE89370400440532013000"}
                ),
            )
        )
        assert isinstance(quote.id, uuid.UUID) and isinstance(recipient.id, int)
        body = TransferCreateBody(
            target_account=recipient.id, quote_uuid=quote.id, customer_transaction_id=uuid.uuid4()
        )
        transfer = await wise.transfers.create(body=body)
    assert isinstance(transfer.id, int)
    return transfer.id


async def test_routes_return_sdk_models_as_wise_json(service: Service) -> None:
    async with httpx.AsyncClient(base_url=service.url) as http:
        profiles = (await http.get("/profiles")).json()
        quote = await http.post(
            f"/profiles/{service.fake.personal_profile_id}/quotes",
            json={"source_currency": "GBP", "target_currency": "EUR", "source_amount": "250.00"},
        )
        transfer = await http.get(f"/transfers/{service.transfer_id}")
    # to_dict() is Wise's own JSON: the models read it back unchanged
    assert [type(p) for p in (PersonalProfile.from_dict(profiles[0]), BusinessProfile.from_dict(profiles[1]))]
    assert [p["id"] for p in profiles] == [service.fake.personal_profile_id, service.fake.business_profile_id]
    assert quote.status_code == 200
    parsed = Quote.from_dict(wire.loads(quote.content))  # money read back exactly, as Decimal
    assert parsed.source_amount == Decimal("250.00")
    assert b'"sourceAmount":250' in quote.content
    assert service.fake.quotes.record(str(parsed.id)) is not None
    assert Quote.from_dict(parsed.to_dict()) == parsed
    assert StandardTransfer.from_dict(transfer.json()).id == service.transfer_id
    assert transfer.json()["lastWebhookState"] is None


async def test_wise_errors_become_json_answers_with_the_trace_id(service: Service) -> None:
    async with httpx.AsyncClient(base_url=service.url) as http:
        missing = await http.get("/transfers/12345")
    assert missing.status_code == 404
    body = missing.json()
    assert body["error"] == "NotFoundError"
    assert body["trace_id"] == service.fake.requests[-1].response_headers["x-trace-id"]


async def test_under_200_concurrent_requests(service: Service) -> None:
    fake = service.fake
    deliveries = [
        fake.webhooks.transfer_state_change(service.transfer_id, current_state=state)
        for state in ("processing", "funds_converted", "outgoing_payment_sent")
    ]
    kinds = ["profiles", "quote", "transfer", "webhook", "redelivery", "forged"]
    plan = [kinds[i % len(kinds)] for i in range(CONCURRENT)]
    random.Random(7).shuffle(plan)
    before = len(fake.requests)

    async def one(http: httpx.AsyncClient, index: int, kind: str) -> tuple[str, httpx.Response]:
        if kind == "profiles":
            return kind, await http.get("/profiles")
        if kind == "quote":
            amount = f"{10 + index}.50"
            order = {"source_currency": "GBP", "target_currency": "EUR", "source_amount": amount}
            return kind, await http.post(f"/profiles/{fake.personal_profile_id}/quotes", json=order)
        if kind == "transfer":
            return kind, await http.get(f"/transfers/{service.transfer_id}")
        delivery = deliveries[index % len(deliveries)]
        if kind == "forged":  # same headers, body changed after signing
            body = delivery.body.replace(b"processing", b"cancelled").replace(b"_sent", b"_lost")
            return kind, await http.post("/wise/webhooks", content=body + b" ", headers=delivery.headers)
        return kind, await http.post("/wise/webhooks", content=delivery.body, headers=delivery.headers)

    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=service.url, limits=limits, timeout=60) as http:
        results = await asyncio.gather(*(one(http, i, kind) for i, kind in enumerate(plan)))

    checked: dict[str, int] = {}
    webhook_answers: list[dict[str, Any]] = []
    for (kind, response), index in zip(results, range(CONCURRENT), strict=True):
        if kind == "profiles":
            assert response.status_code == 200, response.text
            assert [p["id"] for p in response.json()] == [fake.personal_profile_id, fake.business_profile_id]
        elif kind == "quote":
            assert response.status_code == 200, response.text
            assert Quote.from_dict(wire.loads(response.content)).source_amount == Decimal(f"{10 + index}.50")
        elif kind == "transfer":
            assert response.status_code == 200, response.text
            assert response.json()["id"] == service.transfer_id
        elif kind == "forged":
            assert response.status_code == 400, response.text
            assert response.json() == {"error": "WebhookVerificationError"}
        else:
            assert response.status_code == 200, response.text
            webhook_answers.append(response.json())
        checked[kind] = checked.get(kind, 0) + 1

    # each of the 3 deliveries is processed exactly once, however many times and however concurrently sent
    assert webhook_answers.count({"ok": True}) == len(deliveries)
    assert webhook_answers.count({"duplicate": True}) == len(webhook_answers) - len(deliveries)
    # one WiseClient (made in the lifespan) served every request
    assert len(service.clients_made) == 1
    sdk_calls = len(fake.requests) - before
    assert sdk_calls == checked["profiles"] + checked["quote"] + checked["transfer"]
    FIGURES.append(
        f"fastapi example: {CONCURRENT} concurrent requests over loopback, {sum(checked.values())} checked "
        f"({', '.join(f'{n} {k}' for k, n in sorted(checked.items()))}); 1 WiseClient, {sdk_calls} SDK calls"
    )
