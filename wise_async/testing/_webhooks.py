"""Webhook deliveries from FakeWise, signed exactly as Wise signs them, with a key the fake exposes.

``fake.webhooks`` builds deliveries (raw body + headers) and can POST them to your app::

    delivery = fake.webhooks.transfer_state_change(transfer_id, current_state="outgoing_payment_sent")
    response = await fake.webhooks.deliver(app_client, "/wise/webhooks", delivery)

It also sends them by itself: every transfer status change (funding, cancelling, the simulation
endpoints, ``fake.set_transfer_status``) queues a ``transfers#state-change`` for each matching
subscription created through the API, in :attr:`FakeWebhooks.outbox`. In-process,
``await fake.webhooks.flush(client)`` POSTs what is due (e.g. ``client`` on ``httpx.ASGITransport(app)``);
served (uvicorn runs the app's lifespan), a background task POSTs each to its subscription URL and
retries a failure on :attr:`FakeWebhooks.retry_delays` (Wise retries for two weeks; the fake for seconds).

Verify them in the app under test with ``public_keys=[fake.webhooks.public_key_b64]`` (production and
sandbox keys are Wise's; the fake cannot sign for those).
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import anyio
import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ._clock import format_iso
from ._keys import seeded_rsa_key
from ._schema import validate

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["FakeWebhooks", "OutgoingWebhook", "WebhookDelivery"]

SIGNATURE_HEADER = "X-Signature-SHA256"
DELIVERY_ID_HEADER = "X-Delivery-Id"
TEST_NOTIFICATION_HEADER = "X-Test-Notification"
_UNDESCRIBED_VERSION = "2.0.0"  # what Wise sends for an event type the spec does not describe
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_SENDER_TICK = 0.02


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


@functools.cache
def _spec_events() -> dict[str, tuple[str, ...]]:
    """Event type → its schema versions, oldest first, as ``wise_api.fake_answers`` carries them."""
    from wise_api.fake_answers import WEBHOOKS

    return {
        event_type: tuple(sorted(versions, key=_version_key)) for event_type, versions in WEBHOOKS.items()
    }


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


@dataclass
class OutgoingWebhook:
    """A delivery the fake owes a subscription, and what became of each attempt to POST it."""

    subscription_id: str
    url: str
    delivery: WebhookDelivery
    state: Literal["pending", "delivered", "failed"] = "pending"
    attempts: list[str] = field(default_factory=list)
    """One entry per attempt: the status code answered, or the error that stopped it."""
    next_attempt_at: float = 0.0
    """``time.monotonic()`` of the next attempt (served sending)."""

    def summary(self) -> dict[str, Any]:
        """What the inspection route shows."""
        return {
            "subscription_id": self.subscription_id,
            "url": self.url,
            "event_type": self.delivery.event_type,
            "delivery_id": self.delivery.delivery_id,
            "state": self.state,
            "attempts": list(self.attempts),
            "body": self.delivery.json(),
        }


class FakeWebhooks:
    """Signs and sends deliveries with a test RSA key (given, else derived from the fake's seed on first
    use), and keeps the deliveries state changes owe subscriptions in :attr:`outbox`."""

    def __init__(self, fake: FakeWise, *, key: rsa.RSAPrivateKey | None = None) -> None:
        self._fake = fake
        self._key = key
        self.sent: list[WebhookDelivery] = []
        """Every delivery :meth:`deliver` posted, in order."""
        self.outbox: list[OutgoingWebhook] = []
        """Every delivery a state change produced for a subscription, in order, with its attempts."""
        self.retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 5.0)
        """Seconds between attempts when served: one try, then one retry per entry, then ``failed``."""
        self.timeout = 5.0
        """Seconds a receiver has to answer 2xx (Wise's documented limit)."""
        self.loopback_only = True
        """Only POST to loopback hosts; a delivery to another host fails without being sent."""

    def __repr__(self) -> str:
        return f"FakeWebhooks(sent={len(self.sent)}, outbox={len(self.outbox)})"

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        """The signing key: given, else derived from the fake's seed (random when it has none)."""
        if self._key is None:
            seed = self._fake.seed
            self._key = (
                rsa.generate_private_key(public_exponent=65537, key_size=2048)
                if seed is None
                else seeded_rsa_key(seed, "webhook")
            )
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

    @property
    def events(self) -> dict[str, tuple[str, ...]]:
        """The webhook events the spec describes: event type → its schema versions."""
        return dict(_spec_events())

    def sample(self, event_type: str, schema_version: str | None = None) -> dict[str, Any]:
        """The ``data`` of ``event_type`` as the spec shows it (its example, else built from its schema)."""
        from wise_api.fake_answers import WEBHOOKS

        if event_type not in WEBHOOKS:
            raise ValueError(
                f"the spec describes no {event_type!r} event; it has {', '.join(sorted(WEBHOOKS))}"
            )
        return copy.deepcopy(WEBHOOKS[event_type][self._version(event_type, schema_version)]["data"])

    def _version(self, event_type: str, schema_version: str | None) -> str:
        versions = _spec_events().get(event_type)
        if versions is None:
            if schema_version is None:
                return _UNDESCRIBED_VERSION
            return schema_version
        if schema_version is None:
            return versions[0]
        if schema_version not in versions:
            raise ValueError(
                f"{event_type} has schema versions {', '.join(versions)} in the spec, not {schema_version!r}"
            )
        return schema_version

    def delivery(
        self,
        event_type: str,
        data: dict[str, Any] | None = None,
        *,
        schema_version: str | None = None,
        subscription_id: str | None = None,
        delivery_id: str | None = None,
        test_notification: bool = False,
        body: bytes | None = None,
    ) -> WebhookDelivery:
        """A signed delivery of ``{data, subscription_id, event_type, schema_version, sent_at}``.

        For an event the spec describes (:attr:`events`), ``data``'s keys replace those of the spec's
        :meth:`sample` for that schema version (the oldest unless given), and the envelope is checked
        against the spec's schema: a delivery Wise would not send raises ``ValueError`` naming the key.
        Other event types (Wise sends more than the spec describes, e.g. ``balances#credit``) go out
        with ``data`` as given, for an app's unknown-event path. ``body`` replaces the serialised
        envelope (e.g. to test odd formatting); it is signed, not checked.
        """
        version = self._version(event_type, schema_version)
        if body is None:
            described = event_type in _spec_events()
            if described:
                data = {**self.sample(event_type, version), **(data or {})}
            envelope = {
                "data": data if data is not None else {},
                "subscription_id": subscription_id or self._fake._new_secret(),
                "event_type": event_type,
                "schema_version": version,
                "sent_at": format_iso(self._fake.clock.now(), millis=True),
            }
            if described:
                self._check(event_type, version, envelope)
            body = json.dumps(envelope, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: self.sign(body),
            DELIVERY_ID_HEADER: delivery_id or self._fake._new_secret(),
        }
        if test_notification:
            headers[TEST_NOTIFICATION_HEADER] = "true"
        return WebhookDelivery(event_type, body, headers)

    @staticmethod
    def _check(event_type: str, version: str, envelope: dict[str, Any]) -> None:
        from wise_api.fake_answers import SCHEMAS, WEBHOOKS

        schema = WEBHOOKS[event_type][version]["schema"]
        problems = list(validate(envelope, schema, SCHEMAS, closed=True))
        if problems:
            raise ValueError(f"{event_type} {version} does not fit the spec: {'; '.join(problems[:5])}")

    def transfer_state_change(
        self,
        transfer_id: int,
        *,
        current_state: str | None = None,
        previous_state: str | None = None,
        schema_version: str | None = None,
        **options: Any,
    ) -> WebhookDelivery:
        """``transfers#state-change`` for a transfer of the fake (its current status by default)."""
        event_type = "transfers#state-change"
        resource = self.sample(event_type, schema_version).get("resource") or {}
        with self._fake._lock:
            record = self._fake.transfers.record(transfer_id)
            if record is None:
                raise KeyError(transfer_id)
            resource.update(
                type="transfer",
                id=transfer_id,
                profile_id=record.get("_profile_id"),
                account_id=record.get("targetAccount"),
            )
            data = {
                "resource": resource,
                "current_state": current_state or record.get("status"),
                "previous_state": previous_state,
                "occurred_at": format_iso(self._fake.clock.now()),
            }
        return self.delivery(event_type, data, schema_version=schema_version, **options)

    async def deliver(self, client: httpx.AsyncClient, url: str, delivery: WebhookDelivery) -> httpx.Response:
        """POST ``delivery`` to ``url`` with ``client`` (e.g. one on ``httpx.ASGITransport(app)``)."""
        self.sent.append(delivery)
        return await client.post(url, content=delivery.body, headers=delivery.headers)

    # ----------------------------------------------------------------- deliveries from state

    def transfer_changed(self, transfer: dict[str, Any], previous_state: str | None) -> None:
        """Queue ``transfers#state-change`` for every subscription that wants this transfer's changes:
        its profile's subscriptions and every application subscription."""
        event_type = "transfers#state-change"
        profile = str(transfer.get("_profile_id"))
        with self._fake._lock:
            for subscription in self._fake.subscriptions.records():
                scope = subscription["scope"]
                if subscription["trigger_on"] != event_type:
                    continue
                if scope["domain"] == "profile" and scope["id"] != profile:
                    continue
                version = subscription["delivery"]["version"]
                delivery = self.transfer_state_change(
                    transfer["id"],
                    current_state=transfer["status"],
                    previous_state=previous_state,
                    schema_version=version if version in _spec_events()[event_type] else None,
                    subscription_id=subscription["id"],
                )
                self.outbox.append(
                    OutgoingWebhook(subscription["id"], subscription["delivery"]["url"], delivery)
                )

    def queue_test_notification(self, subscription: dict[str, Any]) -> WebhookDelivery:
        """A test notification for ``subscription`` (its event type and version, the spec's sample data,
        ``X-Test-Notification: true``), queued like any other delivery."""
        event_type, version = subscription["trigger_on"], subscription["delivery"]["version"]
        described = _spec_events().get(event_type)
        with self._fake._lock:
            delivery = self.delivery(
                event_type,
                schema_version=version if described is None or version in described else None,
                subscription_id=subscription["id"],
                test_notification=True,
            )
            self.outbox.append(OutgoingWebhook(subscription["id"], subscription["delivery"]["url"], delivery))
        return delivery

    def pending(self) -> list[OutgoingWebhook]:
        with self._fake._lock:
            return [item for item in self.outbox if item.state == "pending"]

    async def flush(self, client: httpx.AsyncClient) -> list[OutgoingWebhook]:
        """One attempt at every pending delivery, in order, with ``client``; what was attempted.

        In-process use: ``client`` on ``httpx.ASGITransport(app=receiver)`` reaches the app whatever
        host the subscription's URL names. A delivery fails after ``1 + len(retry_delays)`` attempts.
        """
        attempted = self.pending()
        for item in attempted:
            await self._attempt(client, item)
        return attempted

    async def _attempt(
        self, client: httpx.AsyncClient, item: OutgoingWebhook, *, network: bool = False
    ) -> None:
        host = urllib.parse.urlsplit(item.url).hostname or ""
        outcome: str
        if network and self.loopback_only and host not in _LOOPBACK_HOSTS:
            outcome = "not sent: not a loopback host"
        else:
            try:
                response = await client.post(
                    item.url, content=item.delivery.body, headers=item.delivery.headers, timeout=self.timeout
                )
                outcome = str(response.status_code)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
        with self._fake._lock:
            item.attempts.append(outcome)
            if outcome.isdigit() and 200 <= int(outcome) < 300:
                item.state = "delivered"
                self.sent.append(item.delivery)
            elif len(item.attempts) > len(self.retry_delays):
                item.state = "failed"
            else:
                item.next_attempt_at = time.monotonic() + self.retry_delays[len(item.attempts) - 1]

    async def send_forever(self) -> None:
        """POST each pending delivery when due, retrying on schedule (the served fake runs this)."""
        in_flight: set[int] = set()

        async def attempt(client: httpx.AsyncClient, item: OutgoingWebhook) -> None:
            try:
                await self._attempt(client, item, network=True)
            finally:
                in_flight.discard(id(item))

        async with httpx.AsyncClient(trust_env=False) as client, anyio.create_task_group() as group:
            while True:
                now = time.monotonic()
                for item in self.pending():
                    if id(item) not in in_flight and item.next_attempt_at <= now:
                        in_flight.add(id(item))
                        group.start_soon(attempt, client, item)
                await anyio.sleep(_SENDER_TICK)
