"""Receive Wise webhooks safely: verify the signature over the raw bytes, then parse.

Wise signs each delivery's **raw body** with RSA PKCS#1 v1.5 / SHA-256 and sends the base64 signature
in ``X-Signature-SHA256``. Verification must happen before JSON parsing (re-serialised JSON would not
match) and is plain RSA, not JOSE, so it uses ``cryptography`` directly.

Typical use (any framework)::

    event = construct_event(raw_body, request.headers, environment="sandbox")
    if event.delivery_id and await dedupe.seen(event.delivery_id):
        return 200  # redelivery: already handled
    match event.typed_data:
        case TransferStateChangeData(current_state="outgoing_payment_sent"): ...

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
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal, Protocol, runtime_checkable

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ._exceptions import WebhookVerificationError, WiseError
from ._jose import JoseKeyError, _load_native_public_key
from ._redaction import get_logger

__all__ = [
    "DELIVERY_ID_HEADER",
    "EVENT_DATA_PARSERS",
    "SIGNATURE_HEADER",
    "TEST_NOTIFICATION_HEADER",
    "WISE_WEBHOOK_PUBLIC_KEYS",
    "AccountDetailsPaymentSender",
    "AccountDetailsPaymentStateChangeData",
    "AccountDetailsPaymentTransfer",
    "BalanceAccountResource",
    "CardManualProvisioningVerificationData",
    "CardResource",
    "HoldLimitBreachResource",
    "HoldLimitBreachUpdateData",
    "InMemoryWebhookDeduplicator",
    "TransferActiveCasesData",
    "TransferResource",
    "TransferStateChangeData",
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
        raise ValueError(f"webhook public key could not be loaded: {exc}") from None
    if not isinstance(native, rsa.RSAPublicKey):
        raise ValueError(f"webhook public key must be RSA, not {type(native).__name__}")
    return native


def _keys_for(environment: str, public_keys: Sequence[str | bytes] | None) -> list[rsa.RSAPublicKey]:
    if public_keys is None:
        try:
            materials: Sequence[str | bytes] = WISE_WEBHOOK_PUBLIC_KEYS[environment]
        except KeyError:
            raise ValueError(
                f"unknown environment {environment!r}; expected one of {sorted(WISE_WEBHOOK_PUBLIC_KEYS)}"
            ) from None
    else:
        if isinstance(public_keys, (str, bytes)):
            raise TypeError("public_keys must be a sequence of keys, not a single key")
        materials = public_keys
    if not materials:
        raise ValueError("no webhook public keys configured")
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


def _get(data: Mapping[str, Any], key: str) -> Any:
    return data.get(key) if isinstance(data, Mapping) else None


def _str(data: Mapping[str, Any], key: str) -> str | None:
    value = _get(data, key)
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    return None


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = _get(data, key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _decimal(data: Mapping[str, Any], key: str) -> Decimal | None:
    value = _get(data, key)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (Decimal, int, str)):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return None


def _datetime(data: Mapping[str, Any], key: str) -> datetime | None:
    value = _get(data, key)
    if not isinstance(value, str):
        return None
    try:
        return _parse_datetime(value)
    except ValueError:
        return None


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = _get(data, key)
    return value if isinstance(value, Mapping) else {}


# --------------------------------------------------------------------------------------------------
# Typed event data (the ``data`` object of the five events in Wise's spec). Every field is optional
# because the spec marks none as required; unknown extra fields stay available on ``WebhookEvent.data``.


@attrs.frozen
class TransferResource:
    """The transfer an event is about."""

    type: str | None = None
    id: int | None = None
    profile_id: int | None = None
    account_id: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TransferResource:
        return cls(
            type=_str(data, "type"),
            id=_int(data, "id"),
            profile_id=_int(data, "profile_id"),
            account_id=_int(data, "account_id"),
        )


@attrs.frozen
class TransferStateChangeData:
    """``transfers#state-change`` (schema 2.0.0 and 4.0.0 share this shape)."""

    resource: TransferResource
    current_state: str | None = None
    previous_state: str | None = None
    occurred_at: datetime | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TransferStateChangeData:
        return cls(
            resource=TransferResource.from_dict(_mapping(data, "resource")),
            current_state=_str(data, "current_state"),
            previous_state=_str(data, "previous_state"),
            occurred_at=_datetime(data, "occurred_at"),
        )


@attrs.frozen
class TransferActiveCasesData:
    """``transfers#active-cases``: the open cases blocking a transfer (schema 2.0.0 and 4.0.0)."""

    resource: TransferResource
    active_cases: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TransferActiveCasesData:
        cases = _get(data, "active_cases")
        return cls(
            resource=TransferResource.from_dict(_mapping(data, "resource")),
            active_cases=tuple(c for c in cases if isinstance(c, str)) if isinstance(cases, list) else (),
        )


@attrs.frozen
class BalanceAccountResource:
    """The balance account that received an account-details payment."""

    id: int | None = None
    profile_id: int | None = None
    type: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BalanceAccountResource:
        return cls(id=_int(data, "id"), profile_id=_int(data, "profile_id"), type=_str(data, "type"))


@attrs.frozen
class AccountDetailsPaymentTransfer:
    """The incoming transfer; ``amount`` is a :class:`~decimal.Decimal` parsed from the JSON literal."""

    id: int | None = None
    type: str | None = None
    amount: Decimal | None = None
    currency: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccountDetailsPaymentTransfer:
        return cls(
            id=_int(data, "id"),
            type=_str(data, "type"),
            amount=_decimal(data, "amount"),
            currency=_str(data, "currency"),
        )


@attrs.frozen
class AccountDetailsPaymentSender:
    """Who paid into the account details, as reported by the sending bank."""

    name: str | None = None
    account_number: str | None = None
    bank_code: str | None = None
    address: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccountDetailsPaymentSender:
        return cls(
            name=_str(data, "name"),
            account_number=_str(data, "account_number"),
            bank_code=_str(data, "bank_code"),
            address=_str(data, "address"),
        )


@attrs.frozen
class AccountDetailsPaymentStateChangeData:
    """``account-details-payment#state-change`` (2.0.0 / 4.0.0); states PROCESSING, COMPLETED, ..."""

    resource: BalanceAccountResource
    transfer: AccountDetailsPaymentTransfer
    sender: AccountDetailsPaymentSender
    account_details_id: str | None = None
    target_account_id: str | None = None
    current_state: str | None = None
    previous_state: str | None = None
    occurred_at: datetime | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccountDetailsPaymentStateChangeData:
        return cls(
            resource=BalanceAccountResource.from_dict(_mapping(data, "resource")),
            transfer=AccountDetailsPaymentTransfer.from_dict(_mapping(data, "transfer")),
            sender=AccountDetailsPaymentSender.from_dict(_mapping(data, "sender")),
            account_details_id=_str(data, "account_details_id"),
            target_account_id=_str(data, "target_account_id"),
            current_state=_str(data, "current_state"),
            previous_state=_str(data, "previous_state"),
            occurred_at=_datetime(data, "occurred_at"),
        )


@attrs.frozen
class CardResource:
    """The card a provisioning event is about."""

    profile_id: int | None = None
    client_id: str | None = None
    card_token: str | None = None
    type: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CardResource:
        return cls(
            profile_id=_int(data, "profile_id"),
            client_id=_str(data, "client_id"),
            card_token=_str(data, "card_token"),
            type=_str(data, "type"),
        )


@attrs.frozen
class CardManualProvisioningVerificationData:
    """``cards#manual-provisioning-verification`` 2.0.0: a card was added to a wallet manually."""

    resource: CardResource
    payment_token_unique_reference: str | None = None
    last_four_digits: str | None = None
    creation_time: datetime | None = None
    wallet_name: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CardManualProvisioningVerificationData:
        return cls(
            resource=CardResource.from_dict(_mapping(data, "resource")),
            payment_token_unique_reference=_str(data, "payment_token_unique_reference"),
            last_four_digits=_str(data, "last_four_digits"),
            creation_time=_datetime(data, "creation_time"),
            wallet_name=_str(data, "wallet_name"),
        )


@attrs.frozen
class HoldLimitBreachResource:
    """The hold-limit breach an update is about."""

    type: str | None = None
    hold_limit_breach_id: int | None = None
    profile_id: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HoldLimitBreachResource:
        return cls(
            type=_str(data, "type"),
            hold_limit_breach_id=_int(data, "hold_limit_breach_id"),
            profile_id=_int(data, "profile_id"),
        )


@attrs.frozen
class HoldLimitBreachUpdateData:
    """``hold-limit-breach#update`` 4.0.0: ``state`` OPEN/CLOSED, ``closing_reason`` when closed."""

    resource: HoldLimitBreachResource
    amount: Decimal | None = None
    currency: str | None = None
    state: str | None = None
    closing_reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    occurred_at: datetime | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HoldLimitBreachUpdateData:
        return cls(
            resource=HoldLimitBreachResource.from_dict(_mapping(data, "resource")),
            amount=_decimal(data, "amount"),
            currency=_str(data, "currency"),
            state=_str(data, "state"),
            closing_reason=_str(data, "closing_reason"),
            created_at=_datetime(data, "created_at"),
            updated_at=_datetime(data, "updated_at"),
            occurred_at=_datetime(data, "occurred_at"),
        )


@attrs.frozen
class UnknownEventData:
    """Fallback for event types or schema versions this SDK has no class for: the raw ``data``."""

    event_type: str
    schema_version: str
    data: dict[str, Any]


WebhookEventData = (
    TransferStateChangeData
    | TransferActiveCasesData
    | AccountDetailsPaymentStateChangeData
    | CardManualProvisioningVerificationData
    | HoldLimitBreachUpdateData
    | UnknownEventData
)

#: (event_type, schema_version) → parser of ``data``. Versions the spec lists; others fall back.
EVENT_DATA_PARSERS: Final[dict[tuple[str, str], Callable[[Mapping[str, Any]], WebhookEventData]]] = {
    ("transfers#state-change", "2.0.0"): TransferStateChangeData.from_dict,
    ("transfers#state-change", "4.0.0"): TransferStateChangeData.from_dict,
    ("transfers#active-cases", "2.0.0"): TransferActiveCasesData.from_dict,
    ("transfers#active-cases", "4.0.0"): TransferActiveCasesData.from_dict,
    ("account-details-payment#state-change", "2.0.0"): AccountDetailsPaymentStateChangeData.from_dict,
    ("account-details-payment#state-change", "4.0.0"): AccountDetailsPaymentStateChangeData.from_dict,
    ("cards#manual-provisioning-verification", "2.0.0"): CardManualProvisioningVerificationData.from_dict,
    ("hold-limit-breach#update", "4.0.0"): HoldLimitBreachUpdateData.from_dict,
}


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
        """Typed ``data``; :class:`UnknownEventData` for types/versions without a class.

        Amounts are re-read from ``raw`` as :class:`~decimal.Decimal` so no float rounding creeps in.
        """
        parser = EVENT_DATA_PARSERS.get((self.event_type, self.schema_version))
        if parser is None:
            return UnknownEventData(self.event_type, self.schema_version, self.data)
        data: Mapping[str, Any] = self.data
        if self.raw:
            try:
                exact = json.loads(self.raw, parse_float=Decimal)
            except (ValueError, RecursionError):
                exact = None
            if isinstance(exact, dict) and isinstance(exact.get("data"), dict):
                data = exact["data"]
        return parser(data)


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
            raise ValueError("max_size must be at least 1")
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
