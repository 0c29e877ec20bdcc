"""Webhook deliveries from FakeWise, signed exactly as Wise signs them, with a key the fake exposes.

``fake.webhooks`` builds deliveries (raw body + headers) and can POST them to your app::

    delivery = fake.webhooks.transfer_state_change(transfer_id, current_state="outgoing_payment_sent")
    response = await fake.webhooks.deliver(app_client, "/wise/webhooks", delivery)

Verify them in the app under test with ``public_keys=[fake.webhooks.public_key_b64]`` (production and
sandbox keys are Wise's; the fake cannot sign for those).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ._clock import format_iso

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["FakeWebhooks", "WebhookDelivery"]

SIGNATURE_HEADER = "X-Signature-SHA256"
DELIVERY_ID_HEADER = "X-Delivery-Id"
TEST_NOTIFICATION_HEADER = "X-Test-Notification"


@dataclass(frozen=True)
class WebhookDelivery:
    """One delivery: the exact bytes that were signed and the headers Wise sends with them."""

    event_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def delivery_id(self) -> str:
        return self.headers[DELIVERY_ID_HEADER]

    def json(self) -> Any:
        return json.loads(self.body)


class FakeWebhooks:
    """Signs and sends deliveries with a test RSA key (generated on first use unless given)."""

    def __init__(self, fake: FakeWise, *, key: rsa.RSAPrivateKey | None = None) -> None:
        self._fake = fake
        self._key = key
        self.sent: list[WebhookDelivery] = []
        """Every delivery :meth:`deliver` posted, in order."""

    def __repr__(self) -> str:
        return f"FakeWebhooks(sent={len(self.sent)})"

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        if self._key is None:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self._key

    @property
    def public_key_b64(self) -> str:
        """Base64 DER SubjectPublicKeyInfo, the form Wise publishes its webhook keys in."""
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode("ascii")

    @property
    def public_key_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )

    def sign(self, body: bytes) -> str:
        """``X-Signature-SHA256``: base64 RSA PKCS#1 v1.5 / SHA-256 over the raw body."""
        signature = self.private_key.sign(bytes(body), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")

    def delivery(
        self,
        event_type: str,
        data: dict[str, Any],
        *,
        schema_version: str = "2.0.0",
        subscription_id: str | None = None,
        delivery_id: str | None = None,
        test_notification: bool = False,
        body: bytes | None = None,
    ) -> WebhookDelivery:
        """A signed delivery of ``{data, subscription_id, event_type, schema_version, sent_at}``.

        ``body`` replaces the serialised envelope (e.g. to test odd formatting); it is still signed.
        """
        if body is None:
            envelope = {
                "data": data,
                "subscription_id": subscription_id or self._fake._new_secret(),
                "event_type": event_type,
                "schema_version": schema_version,
                "sent_at": format_iso(self._fake.clock.now(), millis=True),
            }
            body = json.dumps(envelope, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: self.sign(body),
            DELIVERY_ID_HEADER: delivery_id or self._fake._new_secret(),
        }
        if test_notification:
            headers[TEST_NOTIFICATION_HEADER] = "true"
        return WebhookDelivery(event_type, body, headers)

    def transfer_state_change(
        self,
        transfer_id: int,
        *,
        current_state: str | None = None,
        previous_state: str | None = None,
        schema_version: str = "2.0.0",
        **options: Any,
    ) -> WebhookDelivery:
        """``transfers#state-change`` for a transfer of the fake (its current status by default)."""
        with self._fake._lock:
            record = self._fake.transfers.record(transfer_id)
            if record is None:
                raise KeyError(transfer_id)
            profile_id = record.get("profile") or record.get("profileId")
            data = {
                "resource": {
                    "type": "transfer",
                    "id": transfer_id,
                    "profile_id": profile_id,
                    "account_id": record.get("targetAccount"),
                },
                "current_state": current_state or record.get("status"),
                "previous_state": previous_state,
                "occurred_at": format_iso(self._fake.clock.now()),
            }
        return self.delivery("transfers#state-change", data, schema_version=schema_version, **options)

    async def deliver(self, client: httpx.AsyncClient, url: str, delivery: WebhookDelivery) -> httpx.Response:
        """POST ``delivery`` to ``url`` with ``client`` (e.g. one on ``httpx.ASGITransport(app)``)."""
        self.sent.append(delivery)
        return await client.post(url, content=delivery.body, headers=delivery.headers)
