"""Webhooks end to end: FakeWise signs deliveries with the key it exposes, an ASGI app (Starlette-shaped
request, no framework installed) verifies them over the raw body through ``httpx.ASGITransport``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from asgi_request import Receive, Scope, Send, StarletteLikeRequest

from wise_async.testing import FakeWise, WebhookDelivery
from wise_async.webhooks import (
    InMemoryWebhookDeduplicator,
    TransferStateChangeData,
    UnknownEventData,
    WebhookEvent,
    WebhookPayloadError,
    WebhookVerificationError,
    construct_event,
    verified_webhook,
    verify_webhook,
    webhook_dependency,
)


def receiver(fake: FakeWise, events: list[WebhookEvent]) -> Callable[..., Awaitable[None]]:
    """An app that accepts Wise deliveries the way the README shows (dependency + dedupe)."""
    dependency = webhook_dependency(environment="sandbox", public_keys=[fake.webhooks.public_key_b64])
    dedupe = InMemoryWebhookDeduplicator()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        status = 200
        payload: dict[str, Any] = {"ok": True}
        try:
            event = await dependency(StarletteLikeRequest(scope, receive))
        except (WebhookVerificationError, WebhookPayloadError) as exc:
            status, payload = 400, {"error": str(exc)}
        else:
            if event.delivery_id and await dedupe.seen(event.delivery_id):
                payload = {"duplicate": True}
            else:
                events.append(event)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(payload).encode()})

    return app


@pytest.fixture
async def transfer_id(fake: FakeWise) -> int:
    fake.transfers.put(
        55_000_001,
        {
            "id": 55_000_001,
            "user": fake.user_id,
            "_profile_id": fake.personal_profile_id,  # the profile FakeWise files a transfer under
            "targetAccount": 40_000_001,
            "status": "processing",
        },
    )
    return 55_000_001


async def test_fake_deliveries_verify_and_parse(fake: FakeWise, transfer_id: int) -> None:
    events: list[WebhookEvent] = []
    transport = httpx.ASGITransport(app=receiver(fake, events))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        delivery = fake.webhooks.transfer_state_change(
            transfer_id, current_state="outgoing_payment_sent", previous_state="processing"
        )
        ok = await fake.webhooks.deliver(client, "/wise", delivery)
        again = await fake.webhooks.deliver(client, "/wise", delivery)
        test_ping = fake.webhooks.delivery(
            "balances#credit", {"resource": {"id": 1}}, test_notification=True, schema_version="2.0.0"
        )
        ping = await fake.webhooks.deliver(client, "/wise", test_ping)
    assert ok.json() == {"ok": True} and again.json() == {"duplicate": True} and ping.status_code == 200
    transfer_event, ping_event = events
    assert transfer_event.delivery_id == delivery.delivery_id and not transfer_event.is_test
    data = transfer_event.typed_data
    assert isinstance(data, TransferStateChangeData)
    assert (data.resource.id, data.current_state, data.previous_state) == (
        transfer_id,
        "outgoing_payment_sent",
        "processing",
    )
    assert ping_event.is_test and isinstance(ping_event.typed_data, UnknownEventData)
    assert len(fake.webhooks.sent) == 3


async def test_one_whitespace_byte_fails_verification(fake: FakeWise, transfer_id: int) -> None:
    delivery = fake.webhooks.transfer_state_change(transfer_id)
    keys = [fake.webhooks.public_key_b64]
    construct_event(delivery.body, delivery.headers, public_keys=keys)  # the untouched body verifies
    spaced = delivery.body.replace(b",", b", ", 1)
    assert json.loads(spaced) == json.loads(delivery.body)  # same JSON, different bytes
    with pytest.raises(WebhookVerificationError):
        construct_event(spaced, delivery.headers, public_keys=keys)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(delivery.body + b"\n", delivery.headers["X-Signature-SHA256"], public_keys=keys)

    events: list[WebhookEvent] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=receiver(fake, events)), base_url="http://app"
    ) as client:
        tampered = WebhookDelivery(delivery.event_type, spaced, delivery.headers)
        response = await fake.webhooks.deliver(client, "/wise", tampered)
    assert response.status_code == 400 and "does not match" in response.json()["error"]
    assert events == []


async def test_wise_published_keys_do_not_accept_the_fake_signature(fake: FakeWise, transfer_id: int) -> None:
    delivery = fake.webhooks.transfer_state_change(transfer_id)
    for environment in ("sandbox", "production"):
        with pytest.raises(WebhookVerificationError):
            construct_event(delivery.body, delivery.headers, environment=environment)
    # Rotation: the fake's key listed next to Wise's is enough.
    from wise_async.webhooks import WISE_WEBHOOK_PUBLIC_KEYS

    keys = [*WISE_WEBHOOK_PUBLIC_KEYS["sandbox"], fake.webhooks.public_key_pem]
    assert (
        construct_event(delivery.body, delivery.headers, public_keys=keys).event_type
        == "transfers#state-change"
    )


async def test_verified_webhook_reads_the_raw_body(fake: FakeWise) -> None:
    body = (
        b'{"data":{},"subscription_id":"s","event_type":"x#y",'
        b'"schema_version":"1.0.0","sent_at":"2026-01-01T09:00:00Z"}'
    )
    delivery = fake.webhooks.delivery("x#y", {}, body=body)

    class Request:
        headers = delivery.headers

        async def body(self) -> bytes:
            return body

    event = await verified_webhook(Request(), public_keys=[fake.webhooks.public_key_b64])
    assert event.raw == body and event.event_type == "x#y"
