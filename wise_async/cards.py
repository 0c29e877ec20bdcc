"""Sensitive card data (PAN, CVV, PIN) over Wise's twcard host, end-to-end encrypted.

``wise.card_secrets`` speaks the twcard protocol, which is not Wise's generic JOSE: fetch the card
encryption key (``{"version", "key"}``), send ``{"keyVersion", "encryptedPayload": <compact JWE>}`` with
``x-tw-twcard-card-token`` (or ``x-tw-twcard-order-id``), and read the answer, which is plain JSON (as
the spec shows) or a ``dir``/A256GCM JWE under the request's CEK (as the card guide describes)::

    details = await wise.card_secrets.get_details(card_token)
    details.last4, details.masked_pan        # safe to show
    details.reveal_pan(), details.reveal_cvv()   # explicit; never log them
    pin = await wise.card_secrets.get_pin(card_token)
    await wise.card_secrets.preset_pin(card_order_id, "2468")

Key wrap is RSA1_5 by default, as Wise's card guide requires; pass ``alg="RSA-OAEP-256"`` (here or per
call) if Wise tells you otherwise. The key is cached by version and fetched again once after a failure.

Wise intends the encryption to happen on the end user's device, so the partner backend never sees
card data. For that, hand :meth:`CardSecrets.encryption_key` (``version`` and ``material``) to the
device and forward what it builds with :meth:`CardSecrets.relay`; the device decrypts the answer.

``cardSensitiveDetailsGet`` and ``cardPinGet`` are SCA-protected: the client's ``sca_handler`` runs as
for any call, and a :class:`~wise_async.ScaRequiredError` can be resumed with ``await err.resume()``.

Every method takes the per-call options of any SDK call (``timeout=``, ``max_retries=``,
``extra_headers=``...) and is one logical call of the client it was reached through
(``WiseClient._logical_call``): its key fetch and POSTs share one budget and that client's defaults.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Literal, cast

import anyio
import attrs
import httpx
from joserfc.jwk import RSAKey

from ._compact import as_compact
from ._exceptions import (
    InvalidRequestError,
    JoseError,
    ScaRejectedError,
    ScaRequiredError,
    make_status_error,
)
from ._header_values import credential_problem
from ._hooks import note_jose
from ._jose import (
    JWE_REQUEST_ALGORITHMS,
    JoseKeyError,
    JweDecryptionError,
    JweRequest,
    JweRequestAlg,
    decrypt_jwe_with_cek,
    encrypt_jwe,
    load_public_key,
)
from ._options import check_options, replay_request
from ._redaction import get_logger

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._client import SendRequest, WiseClient
    from ._options import RequestOptions

__all__ = [
    "CARD_TOKEN_HEADER",
    "ORDER_ID_HEADER",
    "CardDataKind",
    "CardEncryptionKey",
    "CardKeys",
    "CardPin",
    "CardSecrets",
    "RelayedCardResponse",
    "SensitiveCardDetails",
    "build_card_encrypted_payload",
    "parse_card_response",
]

logger = get_logger("cards")

CardDataKind = Literal["details", "pin", "preset-pin"]

CARD_TOKEN_HEADER: Final = "x-tw-twcard-card-token"
ORDER_ID_HEADER: Final = "x-tw-twcard-order-id"
KEY_PATH: Final = "/twcard-data/v1/clientSideEncryption/fetchEncryptingKey"
PATHS: Final[dict[str, str]] = {
    "details": "/twcard-data/v1/sensitive-card-data/details",
    "pin": "/twcard-data/v1/sensitive-card-data/pin",
    "preset-pin": "/twcard-data/v1/sensitive-card-data/preset-pin",
}
KEY_OPERATION: Final = "cardEncryptionKeyGet"
OPERATIONS: Final[dict[str, str]] = {
    "details": "cardSensitiveDetailsGet",
    "pin": "cardPinGet",
    "preset-pin": "cardOrderPresetPin",
}
# Statuses after which a rotated card key is worth checking for (Wise cannot read the payload).
_KEY_SUSPECT_STATUSES: Final = frozenset({400, 422, 500})
_NO_JOSE: Final = {"wise_jose": "off"}  # twcard speaks its own protocol, never the generic JOSE layer


# ------------------------------------------------------------------ decrypted card data


def _mask_pan(pan: str) -> str:
    return "*" * max(len(pan) - 4, 0) + pan[-4:] if len(pan) > 4 else "****"


def _required_str(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        # Name the field, never the value: it may be a PAN or PIN in the wrong slot.
        raise JoseError(f"{what} response has no usable {key!r}")
    return value


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


@attrs.frozen(repr=False)
class SensitiveCardDetails:
    """Decrypted card details (``cardSensitiveDetailsGet``). PAN and CVV only via ``reveal_*()``.

    ``repr``/``str`` show the last four PAN digits and mask everything else, including expiry and
    cardholder name (PCI cardholder data), so an accidental log line leaks nothing usable.
    """

    _pan: str
    _cvv2: str
    expiry_date: str | None = None
    cardholder_name: str | None = None
    nonce: str | None = None

    @classmethod
    def from_response(cls, data: Mapping[str, Any]) -> SensitiveCardDetails:
        """Build from the decrypted ``{nonce, pan, cvv2, expiryDate, cardholderName}`` object."""
        return cls(
            pan=_required_str(data, "pan", "card details"),
            cvv2=_required_str(data, "cvv2", "card details"),
            expiry_date=_optional_str(data, "expiryDate"),
            cardholder_name=_optional_str(data, "cardholderName"),
            nonce=_optional_str(data, "nonce"),
        )

    @property
    def masked_pan(self) -> str:
        """PAN with all but the last four digits replaced by ``*``."""
        return _mask_pan(self._pan)

    @property
    def last4(self) -> str:
        """Last four PAN digits (safe to display)."""
        return self._pan[-4:]

    def reveal_pan(self) -> str:
        """The full card number. Never log it."""
        return self._pan

    def reveal_cvv(self) -> str:
        """The CVV2 security code. Never log or store it."""
        return self._cvv2

    def __repr__(self) -> str:
        expiry = "**/**" if self.expiry_date else None
        name = "***" if self.cardholder_name else None
        return (
            f"SensitiveCardDetails(pan={self.masked_pan!r}, cvv='***', expiry_date={expiry!r}, "
            f"cardholder_name={name!r}, nonce={self.nonce!r})"
        )

    __str__ = __repr__


@attrs.frozen(repr=False)
class CardPin:
    """Decrypted card PIN (``cardPinGet``); the PIN is only reachable via :meth:`reveal_pin`."""

    _pin: str
    nonce: str | None = None

    @classmethod
    def from_response(cls, data: Mapping[str, Any]) -> CardPin:
        """Build from the decrypted ``{nonce, pin}`` object."""
        return cls(pin=_required_str(data, "pin", "card PIN"), nonce=_optional_str(data, "nonce"))

    def reveal_pin(self) -> str:
        """The card PIN. Never log or store it."""
        return self._pin

    def __repr__(self) -> str:
        return f"CardPin(pin='***', nonce={self.nonce!r})"

    __str__ = __repr__


def build_card_encrypted_payload(
    payload: Mapping[str, Any],
    card_key_material: RSAKey | str | bytes,
    *,
    key_version: int,
    alg: JweRequestAlg = "RSA1_5",
) -> tuple[dict[str, Any], JweRequest]:
    """Body ``{"keyVersion", "encryptedPayload"}`` for the twcard sensitive-data endpoints.

    ``card_key_material`` is the ``key`` from ``fetchEncryptingKey`` (base64 DER or PEM) and
    ``key_version`` its ``version``. The default ``alg`` follows Wise's card guide (RSA1_5); some
    integrations use RSA-OAEP-256, hence the switch. Keep the returned :class:`JweRequest` to read
    an encrypted response.
    """
    if isinstance(key_version, bool) or not isinstance(key_version, int):
        raise InvalidRequestError("key_version must be an int")
    plaintext = json.dumps(dict(payload), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    request = encrypt_jwe(plaintext, card_key_material, alg=alg, enc="A256GCM")
    return {"keyVersion": key_version, "encryptedPayload": request.compact}, request


_COMPACT_JWE_CHARS: Final[frozenset[str]] = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
)


def _looks_like_compact_jwe(text: str) -> bool:
    return text.startswith("eyJ") and text.count(".") == 4 and set(text) <= _COMPACT_JWE_CHARS


_INVALID: Final = object()


def parse_card_response(body: bytes, content_type: str | None, jwe_request: JweRequest) -> dict[str, Any]:
    """Read a twcard response in either form Wise is documented to use.

    Plain JSON (what the spec shows) is returned as is. A compact JWE (what the card guide describes)
    — sent raw, as ``application/jose+json``, or as a JSON string — is decrypted with the request's
    CEK and must be ``{"alg":"dir","enc":"A256GCM"}``. The guide names no other wrapper, so none is
    guessed at. Empty bodies give ``{}``.
    """
    text = bytes(body).strip()
    if not text:
        return {}
    media = (content_type or "").split(";", 1)[0].strip().lower()
    decoded_text = text.decode("utf-8", "replace")
    compact: str | None = None
    if media in ("application/jose+json", "application/jose") or _looks_like_compact_jwe(decoded_text):
        compact = decoded_text
    else:
        try:
            parsed: Any = json.loads(text)
        except (ValueError, RecursionError):
            parsed = _INVALID
        if isinstance(parsed, dict):
            return parsed
        if isinstance(parsed, str) and _looks_like_compact_jwe(parsed.strip()):
            compact = parsed.strip()
        else:
            raise JoseError("card response is neither a JSON object nor a compact JWE")

    plaintext = decrypt_jwe_with_cek(compact, jwe_request.cek)
    try:
        result: Any = json.loads(plaintext)
    except (ValueError, RecursionError):
        # Raised outside the handler: a JSONDecodeError keeps the whole decrypted document in .doc.
        result = _INVALID
    if not isinstance(result, dict):
        raise JweDecryptionError("decrypted card response is not a JSON object")
    return cast(dict[str, Any], result)


# ------------------------------------------------------------------ the twcard protocol


@attrs.frozen
class CardEncryptionKey:
    """Wise's card encryption key: ``version`` goes into ``keyVersion``; ``material`` is as Wise sent it."""

    version: int
    material: str = attrs.field(repr=False)
    key: RSAKey = attrs.field(repr=False, eq=False)


@attrs.frozen(repr=False)
class RelayedCardResponse:
    """Wise's answer to a device-built request, passed back for the device to read.

    ``encrypted_payload`` is the compact JWE (only the device holds its CEK); when Wise answered in
    plaintext instead, :meth:`reveal_json` returns it. ``repr`` shows neither.
    """

    status_code: int
    content_type: str | None
    _body: bytes
    encrypted_payload: str | None

    def reveal_json(self) -> dict[str, Any] | None:
        """The plaintext JSON object, if Wise did not encrypt the answer. May hold PAN/CVV/PIN."""
        if self.encrypted_payload is not None:
            return None
        try:
            data: Any = json.loads(self._body)
        except ValueError:
            data = None
        return data if isinstance(data, dict) else None

    def __repr__(self) -> str:
        return (
            f"RelayedCardResponse(status_code={self.status_code}, encrypted="
            f"{self.encrypted_payload is not None}, content_type={self.content_type!r})"
        )

    __str__ = __repr__


def _header_value(name: str, value: str | int) -> str:
    """A card token or order id as its header value (visible ASCII); the value is never echoed."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidRequestError(f"{name} must be a str or an int")
    text = str(value).strip(" \t\r\n")
    problem = credential_problem(text)
    if problem is not None:
        raise InvalidRequestError(f"{name} cannot be sent in an HTTP header: {problem}")
    return text


def _check_alg(alg: str) -> JweRequestAlg:
    if alg not in JWE_REQUEST_ALGORITHMS:
        raise JoseKeyError(f"card payload key wrap must be one of {sorted(JWE_REQUEST_ALGORITHMS)}")
    return cast(JweRequestAlg, alg)


class CardKeys:
    """Wise's card encryption keys fetched so far (by version) and the key wrap to use.

    One is shared by a client and the clients derived from it (``with_options``), so a key is fetched
    once for all of them.
    """

    def __init__(self, alg: JweRequestAlg = "RSA1_5") -> None:
        self.alg: JweRequestAlg = _check_alg(alg)
        self.keys: dict[int, CardEncryptionKey] = {}
        self.current: int | None = None
        self.lock = anyio.Lock()
        self.fetches = 0

    def __repr__(self) -> str:
        return f"CardKeys(alg={self.alg!r}, key_versions={sorted(self.keys)})"


class CardSecrets:
    """``wise.card_secrets``: card details, card PIN and preset PIN through the twcard protocol.

    Every method takes the per-call options of any SDK call (``timeout``, ``max_retries``,
    ``extra_headers``, ``extra_query``, ``extra_body``, ``idempotency_key``). A method is one logical
    call: the key fetch (when the key is not cached), the POST and the one re-encrypted POST after a key
    rotation all get the options and share one ``timeout`` budget. ``extra_body`` is merged into the
    POSTed ``{"keyVersion", "encryptedPayload"}`` envelope, never into the encrypted payload. The twcard
    POSTs have no idempotency key, so they are never sent twice by the retry layer.
    """

    def __init__(
        self, client: WiseClient, *, alg: JweRequestAlg = "RSA1_5", keys: CardKeys | None = None
    ) -> None:
        """``keys`` shares another client's card key cache (and its ``alg``, which ``alg`` then does
        not replace)."""
        self._client = client
        self._keys = keys if keys is not None else CardKeys(alg)

    def __repr__(self) -> str:
        return f"CardSecrets(alg={self.alg!r}, key_versions={sorted(self._keys.keys)})"

    @property
    def alg(self) -> JweRequestAlg:
        """The key wrap of card payloads (``RSA1_5``, Wise's card guide; or ``RSA-OAEP-256``)."""
        return self._keys.alg

    @alg.setter
    def alg(self, alg: JweRequestAlg) -> None:
        self._keys.alg = _check_alg(alg)

    @property
    def fetch_count(self) -> int:
        """How many times the card encryption key was fetched (for tests and metrics)."""
        return self._keys.fetches

    # ------------------------------------------------------------------ key

    async def encryption_key(
        self, *, refresh: bool = False, **options: Unpack[RequestOptions]
    ) -> CardEncryptionKey:
        """The current card encryption key (cached by version; ``refresh`` fetches it again)."""
        if not refresh and self._keys.current is not None:
            if options:
                check_options(options)
            return self._keys.keys[self._keys.current]

        async def run(send: SendRequest) -> CardEncryptionKey:
            return await self._encryption_key(send, refresh=refresh)

        return await self._client._logical_call(run, operation_id=KEY_OPERATION, options=options)

    async def _encryption_key(self, send: SendRequest, *, refresh: bool = False) -> CardEncryptionKey:
        cache = self._keys
        if not refresh and cache.current is not None:
            return cache.keys[cache.current]
        stale = cache.current
        async with cache.lock:
            if cache.current is not None and (not refresh or cache.current != stale):
                return cache.keys[cache.current]  # another task fetched it meanwhile
            response = await send({"method": "GET", "url": KEY_PATH, "extensions": _NO_JOSE})
            if not response.is_success:
                raise make_status_error(response, message="could not fetch the card encryption key")
            cache.fetches += 1
            try:
                data = response.json()
                version, material = data["version"], data["key"]
            except (ValueError, KeyError, TypeError, RecursionError):
                raise JoseKeyError("card encryption key response has no version/key") from None
            if isinstance(version, bool) or not isinstance(version, int) or not isinstance(material, str):
                raise JoseKeyError("card encryption key response has an unusable version/key")
            key = load_public_key(material)
            if not isinstance(key, RSAKey):
                raise JoseKeyError("the card encryption key must be an RSA key")
            cache.keys[version] = CardEncryptionKey(version, material, key)
            cache.current = version
            logger.debug("card encryption key version %d fetched", version)
            return cache.keys[version]

    # ------------------------------------------------------------------ operations

    async def get_details(
        self,
        card_token: str,
        *,
        alg: JweRequestAlg | None = None,
        nonce: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> SensitiveCardDetails:
        """PAN, CVV, expiry and name of an ACTIVE or FROZEN card (``cardSensitiveDetailsGet``)."""
        data = await self._exchange(
            "details", card_token, {"nonce": nonce or str(uuid.uuid4())}, alg, options
        )
        return SensitiveCardDetails.from_response(data)

    async def get_pin(
        self,
        card_token: str,
        *,
        alg: JweRequestAlg | None = None,
        nonce: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> CardPin:
        """The PIN of an ACTIVE or FROZEN card (``cardPinGet``)."""
        data = await self._exchange("pin", card_token, {"nonce": nonce or str(uuid.uuid4())}, alg, options)
        return CardPin.from_response(data)

    async def preset_pin(
        self,
        order_id: str | int,
        pin: str,
        *,
        alg: JweRequestAlg | None = None,
        **options: Unpack[RequestOptions],
    ) -> str:
        """Choose the PIN of a card being ordered (``cardOrderPresetPin``); returns the card order id."""
        if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit() or not 4 <= len(pin) <= 6:
            raise InvalidRequestError("pin must be a string of 4 to 6 digits")  # never echo the value
        data = await self._exchange("preset-pin", order_id, {"pin": pin}, alg, options)
        order = data.get("cardOrderId")
        return str(order) if order is not None else str(order_id)

    async def relay(
        self,
        kind: CardDataKind,
        target: str | int,
        *,
        encrypted_payload: str,
        key_version: int,
        **options: Unpack[RequestOptions],
    ) -> RelayedCardResponse:
        """Forward a payload the end user's device encrypted; Wise's answer goes back to the device.

        ``target`` is the card token (``details``, ``pin``) or the card order id (``preset-pin``). The
        payload is never decrypted or re-encrypted here.
        """
        if isinstance(key_version, bool) or not isinstance(key_version, int):
            raise InvalidRequestError("key_version must be an int")
        compact = encrypted_payload.strip() if isinstance(encrypted_payload, str) else ""
        if compact.count(".") != 4:
            raise JoseError("encrypted_payload must be a compact JWE (five dot-separated parts)")
        body = {"keyVersion": key_version, "encryptedPayload": compact}
        request = self._request(kind, target, body)

        async def run(send: SendRequest) -> httpx.Response:
            return await send(request)

        response = await self._client._logical_call(run, operation_id=OPERATIONS[kind], options=options)
        if not response.is_success:
            raise make_status_error(response)
        content_type = response.headers.get("content-type")
        return RelayedCardResponse(
            response.status_code, content_type, response.content, as_compact(response.content)
        )

    # ------------------------------------------------------------------ plumbing

    async def _exchange(
        self,
        kind: CardDataKind,
        target: str | int,
        payload: Mapping[str, Any],
        alg: JweRequestAlg | None,
        options: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Key, POST and (after a key rotation) one re-encrypted POST: one call, one budget."""
        chosen = _check_alg(alg) if alg is not None else self.alg
        self._request(kind, target, {})  # a bad kind or target fails before anything is sent

        async def run(send: SendRequest) -> dict[str, Any]:
            key = await self._encryption_key(send)
            started = time.perf_counter()
            body, jwe_request = build_card_encrypted_payload(
                payload, key.key, key_version=key.version, alg=chosen
            )
            await note_jose("jwe", started)
            response = await self._post_approvable(send, kind, target, body, jwe_request)
            if response.status_code in _KEY_SUSPECT_STATUSES:
                fresh = await self._encryption_key(send, refresh=True)
                if fresh != key:
                    logger.info(
                        "card key changed (version %d -> %d); re-encrypting once", key.version, fresh.version
                    )
                    started = time.perf_counter()
                    body, jwe_request = build_card_encrypted_payload(
                        payload, fresh.key, key_version=fresh.version, alg=chosen
                    )
                    await note_jose("jwe", started)
                    response = await self._post_approvable(send, kind, target, body, jwe_request)
            return self._read(response, jwe_request)

        return await self._client._logical_call(run, operation_id=OPERATIONS[kind], options=options)

    @staticmethod
    def _read(response: httpx.Response, jwe_request: JweRequest) -> dict[str, Any]:
        if not response.is_success:
            raise make_status_error(response)
        return parse_card_response(response.content, response.headers.get("content-type"), jwe_request)

    @staticmethod
    def _request(kind: CardDataKind, target: str | int, body: Mapping[str, Any]) -> dict[str, Any]:
        """httpx ``request`` keywords of the twcard POST for ``kind``."""
        if kind not in PATHS:
            raise InvalidRequestError(f"kind must be one of {sorted(PATHS)}")
        header = ORDER_ID_HEADER if kind == "preset-pin" else CARD_TOKEN_HEADER
        return {
            "method": "POST",
            "url": PATHS[kind],
            "json": dict(body),
            "headers": {header: _header_value(header, target)},
            "extensions": _NO_JOSE,
        }

    async def _post_approvable(
        self,
        send: SendRequest,
        kind: CardDataKind,
        target: str | int,
        body: Mapping[str, Any],
        jwe_request: JweRequest,
    ) -> httpx.Response:
        """POST, attaching an SCA resume that replays the identical request and reads its answer."""
        try:
            return await send(self._request(kind, target, body))
        except ScaRequiredError as exc:
            sent = exc.sent_request
            if sent is not None and not isinstance(exc, ScaRejectedError):
                exc._resume = self._resumer(sent, jwe_request, kind)
            raise

    def _resumer(self, original: httpx.Request, jwe_request: JweRequest, kind: CardDataKind) -> Any:
        async def resume(approval: Mapping[str, str]) -> Any:
            # A new call of the client the original was made through (its defaults, a fresh budget).
            response = await self._client._send_operation(
                replay_request(original, approval), operation_id=OPERATIONS[kind]
            )
            data = self._read(response, jwe_request)
            if kind == "details":
                return SensitiveCardDetails.from_response(data)
            if kind == "pin":
                return CardPin.from_response(data)
            return str(data.get("cardOrderId", ""))

        return resume
