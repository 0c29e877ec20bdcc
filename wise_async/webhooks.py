"""Receive Wise webhooks safely: verify the signature over the raw bytes, then parse.

Wise signs each delivery's **raw body** with RSA PKCS#1 v1.5 / SHA-256 and sends the base64 signature
in ``X-Signature-SHA256``. Verification must happen before JSON parsing (re-serialised JSON would not
match) and is plain RSA, not JOSE, so it uses ``cryptography`` directly.

Typical use (any framework)::

    event = construct_event(raw_body, request.headers, environment="sandbox")
    if event.delivery_id and await dedupe.seen(event.delivery_id):
        return 200  # redelivery: already handled
    match event.typed_data:  # generated from the spec's webhooks section (wise_api.webhook_events)
        case TransfersStateChangeData(current_state="outgoing_payment_sent"): ...

Failures raise :class:`~wise_async._exceptions.WebhookVerificationError` (do not trust, answer 4xx)
or, for a correctly signed but malformed body, :class:`WebhookPayloadError`.
"""

from __future__ import annotations

import base64
import binascii
import collections
import functools
import json
import re
import threading
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeAlias, cast, runtime_checkable

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from wise_api import webhook_data
from wise_api.webhook_data import *  # noqa: F403  the spec's per-event classes (TransfersStateChangeData, ...)
from wise_api.webhook_events import EVENT_CLASSES, EVENTS

from ._exceptions import ConfigurationError, WebhookVerificationError, WiseError
from ._jose import JoseKeyError, _load_native_public_key
from ._redaction import get_logger

__all__ = [
    "DELIVERY_ID_HEADER",
    "EVENT_DATA_MODELS",
    "EVENT_DATA_PARSERS",
    "SIGNATURE_HEADER",
    "TEST_NOTIFICATION_HEADER",
    "WISE_WEBHOOK_PUBLIC_KEYS",
    "InMemoryWebhookDeduplicator",
    "UniqueKeyWebhookDeduplicator",
    "UnknownEventData",
    "WebhookDeduplicator",
    "WebhookEvent",
    "WebhookEventData",
    "WebhookPayloadError",
    "WebhookRequest",
    "WebhookVerificationError",
    "construct_event",
    "parse_webhook",
    "verified_webhook",
    "verify_webhook",
    "webhook_dependency",
]
__all__ += webhook_data.__all__  # type checkers read the generated names from here too

if TYPE_CHECKING:
    from wise_api.webhook_events import EventData

logger = get_logger("webhooks")

Environment = Literal["production", "sandbox"]

SIGNATURE_HEADER: Final = "X-Signature-SHA256"
DELIVERY_ID_HEADER: Final = "X-Delivery-Id"
TEST_NOTIFICATION_HEADER: Final = "X-Test-Notification"

#: Wise's published webhook signing keys (base64 DER SubjectPublicKeyInfo), per environment. A tuple so a
#: rotation can list old and new keys side by side; a delivery is accepted if any key verifies it.
WISE_WEBHOOK_PUBLIC_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "production": (
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvO8vXV+JksBzZAY6GhSOXdoTCfhXaaiZ+qAbtaDBiu2AGkGVpmEygFmWP4Li9m5+"
        "Ni85BhVvZOodM9epgW3FbA5Q1SexvAF1PPjX4JpMstak/QhAgl1qMSqEevL8cmUeTgcMuVWCJmlge9h7B1CSD4rtlimGZozG39rUBDg6"
        "Qt2K+P4wBfLblL0k4C4YUdLnpGYEDIth+i8XsRpFlogxCAFyH9+knYsDbR43UJ9shtc42Ybd40Afihj8KnYKXzchyQ42aC8aZ/h5hyZ28"
        "yVyOj3Vos0VdBIs/gAyJ/4yyQFCXYte64I7ssrlbGRaco4nKF3HmaNhxwyKyJafz19eHwIDAQAB",
    ),
    "sandbox": (
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwpb91cEYuyJNQepZAVfPZIlPZfNUefH+n6w9SW3fykqKu938cR7WadQv87oF2VuT"
        "+fDt7kqeRziTmPSUhqPUys/V2Q1rlfJuXbE+Gga37t7zwd0egQ+KyOEHQOpcTwKmtZ81ieGHynAQzsn1We3jwt760MsCPJ7GMT141ByQM+"
        "yW1Bx+4SG3IGjXWyqOWrcXsxAvIXkpUD/jK/L958CgnZEgz0BSEh0QxYLITnW1lLokSx/dTianWPFEhMC9BgijempgNXHNfcVirg1lPSy"
        "gz7KqoKUN0oHqWLr2U1A+7kqrl6O2nx3CKs1bj1hToT1+p4kcMoHXA7kA+VBLUpEsVwIDAQAB",
    ),
}


class WebhookPayloadError(WiseError, ValueError):
    """A correctly signed webhook body is not the envelope Wise documents (not JSON, fields missing)."""


# --------------------------------------------------------------------------------------------------
# Verification


@functools.lru_cache(maxsize=32)
def _rsa_public_key(material: str | bytes) -> rsa.RSAPublicKey:
    """Parse (and cache) one configured key: PEM or base64 DER SPKI, wrapped in PEM or not."""
    try:
        native = _load_native_public_key(material)
    except JoseKeyError as exc:
        raise ConfigurationError(f"webhook public key could not be loaded: {exc}") from None
    if not isinstance(native, rsa.RSAPublicKey):
        raise ConfigurationError(f"webhook public key must be RSA, not {type(native).__name__}")
    return native


def _keys_for(environment: str, public_keys: Sequence[str | bytes] | None) -> list[rsa.RSAPublicKey]:
    if public_keys is None:
        try:
            materials: Sequence[str | bytes] = WISE_WEBHOOK_PUBLIC_KEYS[environment]
        except KeyError:
            raise ConfigurationError(
                f"unknown environment {environment!r:.20}; expected one of {sorted(WISE_WEBHOOK_PUBLIC_KEYS)}"
            ) from None
    else:
        if isinstance(public_keys, (str, bytes)):
            raise ConfigurationError("public_keys must be a sequence of keys, not a single key")
        materials = public_keys
    if not materials:
        raise ConfigurationError("no webhook public keys configured")
    return [_rsa_public_key(material) for material in materials]


def verify_webhook(
    raw_body: bytes,
    signature_b64: str | None,
    *,
    environment: Environment = "production",
    public_keys: Sequence[str | bytes] | None = None,
) -> None:
    """Check ``X-Signature-SHA256`` over the exact bytes received; raise if it does not verify.

    ``public_keys`` overrides the published keys of ``environment`` (e.g. during a rotation, or in
    tests). Raises :class:`WebhookVerificationError` for a missing or non-base64 signature, or when no
    key verifies it. Never parses the body.
    """
    if not isinstance(raw_body, (bytes, bytearray, memoryview)):
        # A decoded/re-encoded str may differ from what Wise signed; insist on the wire bytes.
        raise TypeError("raw_body must be the raw request body bytes, not a decoded or parsed value")
    keys = _keys_for(environment, public_keys)
    if signature_b64 is None or not signature_b64.strip():
        raise WebhookVerificationError(f"missing {SIGNATURE_HEADER} header: the delivery is unsigned")
    try:
        signature = base64.b64decode("".join(signature_b64.split()), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError(f"{SIGNATURE_HEADER} is not valid base64") from None
    if not signature:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER} is empty after base64 decoding")
    body = bytes(raw_body)
    for key in keys:
        try:
            key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            continue
        return
    where = "the given public keys" if public_keys is not None else f"Wise's {environment} keys"
    logger.debug("webhook signature rejected (%d key(s) tried, %d body bytes)", len(keys), len(body))
    raise WebhookVerificationError(f"{SIGNATURE_HEADER} does not match the body under any of {where}")


# --------------------------------------------------------------------------------------------------
# Parsing helpers

_ISO_RE: Final = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}(?::\d{2})?)"
    r"(?:[.,](?P<frac>\d+))?(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)


def _parse_datetime(value: str) -> datetime:
    """ISO 8601 as Wise sends it (``Z``, 0-9 fraction digits) on Python 3.10, whose parser is stricter.

    Timestamps without an offset are taken as UTC, which is what Wise uses.
    """
    match = _ISO_RE.match(value.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp: {value[:40]!r}")
    time = match["time"] if match["time"].count(":") == 2 else match["time"] + ":00"
    frac = (match["frac"] or "")[:6].ljust(6, "0")
    tz = match["tz"]
    if tz is None or tz in ("Z", "z"):
        offset = "+00:00"
    elif len(tz) == 3:
        offset = tz + ":00"
    elif ":" not in tz:
        offset = f"{tz[:3]}:{tz[3:]}"
    else:
        offset = tz
    return datetime.fromisoformat(f"{match['date']}T{time}.{frac}{offset}")


# --------------------------------------------------------------------------------------------------
# Typed event data. The table comes from the spec's ``webhooks`` section (codegen/webhook_events.py):
# ``(event_type, schema_version)`` → the generated model of ``data``, and per event a class that every
# version's model is registered with (``TransfersStateChangeData``), for ``isinstance`` and ``match``.


@attrs.frozen
class UnknownEventData:
    """Fallback for event types or schema versions the spec has no model for: the raw ``data``."""

    event_type: str
    schema_version: str
    data: dict[str, Any]


WebhookEventData: TypeAlias = "EventData | UnknownEventData"

#: (event_type, schema_version) → the generated model of its ``data`` object.
EVENT_DATA_MODELS: Final[dict[tuple[str, str], type[Any]]] = {key: data for key, (_, data) in EVENTS.items()}
#: (event_type, schema_version) → parser of ``data`` (kept for code written against earlier releases).
EVENT_DATA_PARSERS: Final[dict[tuple[str, str], Callable[[Mapping[str, Any]], Any]]] = {
    key: model.from_dict for key, model in EVENT_DATA_MODELS.items()
}

# Names of the hand-written classes of earlier releases → the generated per-event class now in use.
_RENAMED_EVENT_CLASSES: Final = {
    "TransferStateChangeData": "transfers#state-change",
    "TransferActiveCasesData": "transfers#active-cases",
    "AccountDetailsPaymentStateChangeData": "account-details-payment#state-change",
    "CardManualProvisioningVerificationData": "cards#manual-provisioning-verification",
    "HoldLimitBreachUpdateData": "hold-limit-breach#update",
}
_REMOVED_RESOURCE_CLASSES: Final[frozenset[str]] = frozenset(
    {
        "AccountDetailsPaymentSender",
        "AccountDetailsPaymentTransfer",
        "BalanceAccountResource",
        "CardResource",
        "HoldLimitBreachResource",
        "TransferResource",
    }
)


def __getattr__(name: str) -> Any:
    """Per-event classes by their generated name (``TransfersStateChangeData``) or earlier name."""
    event_type = _RENAMED_EVENT_CLASSES.get(name)
    if event_type is not None and event_type in EVENT_CLASSES:
        return EVENT_CLASSES[event_type]
    for cls in EVENT_CLASSES.values():
        if cls.__name__ == name:
            return cls
    if name in _REMOVED_RESOURCE_CLASSES:
        raise AttributeError(
            f"wise_async.webhooks.{name} was replaced by the generated models of wise_api.webhook_events;"
            " nested objects are attributes of event.typed_data (README: Webhooks, migrating)"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _exact_data(event: WebhookEvent) -> Mapping[str, Any]:
    """``data`` re-read from the signed bytes with amounts as :class:`~decimal.Decimal`."""
    if event.raw:
        try:
            exact = json.loads(event.raw, parse_float=Decimal)
        except (ValueError, RecursionError):
            exact = None
        data = exact.get("data") if isinstance(exact, dict) else None
        if isinstance(data, dict):
            return data
    return event.data


# --------------------------------------------------------------------------------------------------
# Envelope


@attrs.frozen
class WebhookEvent:
    """One delivery: Wise's envelope plus the delivery headers. ``raw`` is the exact signed body.

    ``data`` is the generic JSON object (works for every event type); :attr:`typed_data` gives the
    typed view for the events in Wise's spec, keyed by ``(event_type, schema_version)``.
    """

    event_type: str
    schema_version: str
    subscription_id: str
    sent_at: datetime
    data: dict[str, Any]
    delivery_id: str | None = None
    is_test: bool = False
    raw: bytes = attrs.field(default=b"", repr=False)

    @property
    def typed_data(self) -> WebhookEventData:
        """``data`` as the generated model of its event type and schema version, or :class:`UnknownEventData`.

        Every version's model is an instance of its event's class (``TransfersStateChangeData``). Fields
        the delivery lacks are ``None``; fields Wise adds beyond the spec are in ``additional_properties``.
        Amounts are re-read from ``raw`` as :class:`~decimal.Decimal` so no float rounding creeps in.
        Raises :class:`WebhookPayloadError` if ``data`` does not fit the model (a field of the wrong shape).
        """
        model = EVENT_DATA_MODELS.get((self.event_type, self.schema_version))
        if model is None:
            return UnknownEventData(self.event_type, self.schema_version, self.data)
        try:
            return cast("EventData", model.from_dict(_exact_data(self)))
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise WebhookPayloadError(
                f"{self.event_type} {self.schema_version} data does not fit {model.__name__}"
                f" ({type(exc).__name__})"
            ) from None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that works for plain dicts as well as Starlette/httpx headers."""
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        value = headers.get(lower)
        if value is None:
            value = next((v for k, v in headers.items() if k.lower() == lower), None)
    return value


def parse_webhook(raw_body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
    """Parse an **already verified** delivery into a :class:`WebhookEvent` (any event type).

    Use :func:`construct_event` unless the signature was checked elsewhere.
    """
    body = bytes(raw_body)
    try:
        envelope = json.loads(body)
    except (ValueError, RecursionError):
        envelope = None
    if not isinstance(envelope, dict):
        raise WebhookPayloadError("webhook body is not a JSON object")

    def required_str(key: str) -> str:
        value = envelope.get(key)
        if not isinstance(value, str) or not value:
            raise WebhookPayloadError(f"webhook envelope has no {key!r}")
        return value

    event_type = required_str("event_type")
    sent_at_text = required_str("sent_at")
    try:
        sent_at = _parse_datetime(sent_at_text)
    except ValueError:
        raise WebhookPayloadError("webhook 'sent_at' is not an ISO 8601 timestamp") from None
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise WebhookPayloadError("webhook envelope has no 'data' object")
    schema_version = envelope.get("schema_version")
    subscription_id = envelope.get("subscription_id")
    test_flag = (_header(headers, TEST_NOTIFICATION_HEADER) or "").strip().lower()
    return WebhookEvent(
        event_type=event_type,
        schema_version=schema_version if isinstance(schema_version, str) else "",
        subscription_id=subscription_id if isinstance(subscription_id, str) else "",
        sent_at=sent_at,
        data=data,
        delivery_id=_header(headers, DELIVERY_ID_HEADER),
        is_test=test_flag == "true",
        raw=body,
    )


def construct_event(
    raw_body: bytes,
    headers: Mapping[str, str],
    *,
    environment: Environment = "production",
    public_keys: Sequence[str | bytes] | None = None,
) -> WebhookEvent:
    """Verify ``X-Signature-SHA256`` over ``raw_body``, then parse it (verification always first)."""
    verify_webhook(
        raw_body, _header(headers, SIGNATURE_HEADER), environment=environment, public_keys=public_keys
    )
    event = parse_webhook(raw_body, headers)
    logger.debug(
        "webhook verified: %s %s delivery=%s test=%s",
        event.event_type,
        event.schema_version,
        event.delivery_id,
        event.is_test,
    )
    return event


# --------------------------------------------------------------------------------------------------
# De-duplication


@runtime_checkable
class WebhookDeduplicator(Protocol):
    """Remembers ``X-Delivery-Id`` values so a redelivery is processed once.

    Wise retries (up to 25 times over two weeks) and may deliver out of order. Back it with a shared
    store (Redis ``SET NX EX``, a unique DB column) when running more than one process.
    """

    async def seen(self, delivery_id: str) -> bool:
        """Return ``True`` if ``delivery_id`` was seen before; otherwise record it and return ``False``."""
        ...


class InMemoryWebhookDeduplicator:
    """Process-local :class:`WebhookDeduplicator` keeping the ``max_size`` most recent delivery ids.

    Marks on first sight: if handling then fails, call :meth:`forget` so Wise's retry is processed.
    """

    def __init__(self, max_size: int = 10_000) -> None:
        if max_size < 1:
            raise ConfigurationError("max_size must be at least 1")
        self._max_size = max_size
        self._ids: collections.OrderedDict[str, None] = collections.OrderedDict()
        # Critical sections never await, so a thread lock also serves asyncio/trio callers.
        self._lock = threading.Lock()

    async def seen(self, delivery_id: str) -> bool:
        with self._lock:
            if delivery_id in self._ids:
                self._ids.move_to_end(delivery_id)
                return True
            self._ids[delivery_id] = None
            while len(self._ids) > self._max_size:
                self._ids.popitem(last=False)
            return False

    async def forget(self, delivery_id: str) -> None:
        """Un-mark ``delivery_id`` (handling failed; let the redelivery through)."""
        with self._lock:
            self._ids.pop(delivery_id, None)

    def __len__(self) -> int:
        return len(self._ids)


class UniqueKeyWebhookDeduplicator:
    """A :class:`WebhookDeduplicator` over a database table with a unique key on the delivery id.

    ``claim(delivery_id)`` inserts the id and returns True if this call inserted it (False when the
    unique key already held it), e.g. ``INSERT INTO webhook_deliveries (delivery_id) VALUES ($1)
    ON CONFLICT DO NOTHING`` and "one row affected". ``release(delivery_id)`` deletes it again (see
    :meth:`forget`). The database makes it exactly-once across every process that shares it; claim the
    id in the same transaction as the handling's own writes to make those exactly-once too.
    (For Redis, use ``wise_async.redis.RedisWebhookDeduplicator``.)
    """

    def __init__(
        self,
        claim: Callable[[str], Awaitable[bool]],
        release: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._claim = claim
        self._release = release

    async def seen(self, delivery_id: str) -> bool:
        return not await self._claim(delivery_id)

    async def forget(self, delivery_id: str) -> None:
        """Un-mark ``delivery_id`` (handling failed; let the redelivery through)."""
        if self._release is None:
            raise NotImplementedError("this deduplicator was built without release=")
        await self._release(delivery_id)


# --------------------------------------------------------------------------------------------------
# Framework helper (Starlette / FastAPI) without importing either


class WebhookRequest(Protocol):
    """What :func:`verified_webhook` needs from a request: Starlette's ``Request`` fits."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    async def body(self) -> bytes: ...


async def verified_webhook(
    request: WebhookRequest,
    *,
    environment: Environment = "production",
    public_keys: Sequence[str | bytes] | None = None,
) -> WebhookEvent:
    """Read the raw body of a Starlette-like request, verify it and return the event.

    Raises :class:`WebhookVerificationError` / :class:`WebhookPayloadError`; map them to a 400.
    For FastAPI's ``Depends`` use :func:`webhook_dependency`, which binds the options.
    """
    raw_body = await request.body()
    return construct_event(raw_body, request.headers, environment=environment, public_keys=public_keys)


def webhook_dependency(
    *,
    environment: Environment = "production",
    public_keys: Sequence[str | bytes] | None = None,
) -> Callable[[Any], Coroutine[Any, Any, WebhookEvent]]:
    """A FastAPI dependency: ``event: WebhookEvent = Depends(webhook_dependency(environment="sandbox"))``.

    FastAPI injects the request only into a parameter annotated with Starlette's ``Request``; that
    annotation is attached here, lazily, so neither package is imported unless installed and used.
    """

    async def dependency(request: Any) -> WebhookEvent:
        return await verified_webhook(request, environment=environment, public_keys=public_keys)

    try:
        from starlette.requests import Request  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # plain Starlette-less use: the callable still works when called directly
        pass
    else:
        dependency.__annotations__ = {"request": Request, "return": WebhookEvent}
    return dependency
