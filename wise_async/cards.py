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
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any, Final, Literal, cast

import anyio
import attrs
import httpx
from joserfc.jwk import RSAKey

from ._exceptions import JoseError, ScaRejectedError, ScaRequiredError, make_status_error
from ._jose import (
    JWE_REQUEST_ALGORITHMS,
    CardPin,
    JoseKeyError,
    JweRequest,
    JweRequestAlg,
    SensitiveCardDetails,
    build_card_encrypted_payload,
    load_public_key,
    parse_card_response,
)
from ._redaction import get_logger

__all__ = [
    "CARD_TOKEN_HEADER",
    "ORDER_ID_HEADER",
    "CardDataKind",
    "CardEncryptionKey",
    "CardPin",
    "CardSecrets",
    "RelayedCardResponse",
    "SensitiveCardDetails",
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
# Statuses after which a rotated card key is worth checking for (Wise cannot read the payload).
_KEY_SUSPECT_STATUSES: Final = frozenset({400, 422, 500})
_NO_JOSE: Final = {"wise_jose": "off"}  # twcard speaks its own protocol, never the generic JOSE layer


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
    text = str(value).strip()
    if not text or any(c in text for c in "\r\n"):
        raise ValueError(f"{name} must be a non-empty single-line value")
    return text


class CardSecrets:
    """``wise.card_secrets``: card details, card PIN and preset PIN through the twcard protocol."""

    def __init__(self, http: httpx.AsyncClient, *, alg: JweRequestAlg = "RSA1_5") -> None:
        self._http = http
        self.alg: JweRequestAlg = self._check_alg(alg)
        self._keys: dict[int, CardEncryptionKey] = {}
        self._current: int | None = None
        self._lock = anyio.Lock()
        self.fetch_count = 0

    def __repr__(self) -> str:
        return f"CardSecrets(alg={self.alg!r}, key_versions={sorted(self._keys)})"

    @staticmethod
    def _check_alg(alg: str) -> JweRequestAlg:
        if alg not in JWE_REQUEST_ALGORITHMS:
            raise JoseKeyError(f"card payload key wrap must be one of {sorted(JWE_REQUEST_ALGORITHMS)}")
        return cast(JweRequestAlg, alg)

    # ------------------------------------------------------------------ key

    async def encryption_key(self, *, refresh: bool = False) -> CardEncryptionKey:
        """The current card encryption key (cached by version; ``refresh`` fetches it again)."""
        if not refresh and self._current is not None:
            return self._keys[self._current]
        stale = self._current
        async with self._lock:
            if self._current is not None and (not refresh or self._current != stale):
                return self._keys[self._current]  # another task fetched it meanwhile
            response = await self._http.get(KEY_PATH, extensions=_NO_JOSE)
            if response.is_error:
                raise make_status_error(response, message="could not fetch the card encryption key")
            self.fetch_count += 1
            try:
                data = response.json()
                version, material = data["version"], data["key"]
            except (ValueError, KeyError, TypeError):
                raise JoseKeyError("card encryption key response has no version/key") from None
            if isinstance(version, bool) or not isinstance(version, int) or not isinstance(material, str):
                raise JoseKeyError("card encryption key response has an unusable version/key")
            key = load_public_key(material)
            if not isinstance(key, RSAKey):
                raise JoseKeyError("the card encryption key must be an RSA key")
            self._keys[version] = CardEncryptionKey(version, material, key)
            self._current = version
            logger.debug("card encryption key version %d fetched", version)
            return self._keys[version]

    # ------------------------------------------------------------------ operations

    async def get_details(
        self, card_token: str, *, alg: JweRequestAlg | None = None, nonce: str | None = None
    ) -> SensitiveCardDetails:
        """PAN, CVV, expiry and name of an ACTIVE or FROZEN card (``cardSensitiveDetailsGet``)."""
        data = await self._exchange("details", card_token, {"nonce": nonce or str(uuid.uuid4())}, alg)
        return SensitiveCardDetails.from_response(data)

    async def get_pin(
        self, card_token: str, *, alg: JweRequestAlg | None = None, nonce: str | None = None
    ) -> CardPin:
        """The PIN of an ACTIVE or FROZEN card (``cardPinGet``)."""
        data = await self._exchange("pin", card_token, {"nonce": nonce or str(uuid.uuid4())}, alg)
        return CardPin.from_response(data)

    async def preset_pin(self, order_id: str | int, pin: str, *, alg: JweRequestAlg | None = None) -> str:
        """Choose the PIN of a card being ordered (``cardOrderPresetPin``); returns the card order id."""
        if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit() or not 4 <= len(pin) <= 6:
            raise ValueError("pin must be a string of 4 to 6 digits")  # never echo the value
        data = await self._exchange("preset-pin", order_id, {"pin": pin}, alg)
        order = data.get("cardOrderId")
        return str(order) if order is not None else str(order_id)

    async def relay(
        self,
        kind: CardDataKind,
        target: str | int,
        *,
        encrypted_payload: str,
        key_version: int,
    ) -> RelayedCardResponse:
        """Forward a payload the end user's device encrypted; Wise's answer goes back to the device.

        ``target`` is the card token (``details``, ``pin``) or the card order id (``preset-pin``). The
        payload is never decrypted or re-encrypted here.
        """
        if isinstance(key_version, bool) or not isinstance(key_version, int):
            raise TypeError("key_version must be an int")
        compact = encrypted_payload.strip() if isinstance(encrypted_payload, str) else ""
        if compact.count(".") != 4:
            raise JoseError("encrypted_payload must be a compact JWE (five dot-separated parts)")
        body = {"keyVersion": key_version, "encryptedPayload": compact}
        response = await self._post(kind, target, body)
        if response.is_error:
            raise make_status_error(response)
        from ._jose_transport import _as_compact

        content_type = response.headers.get("content-type")
        return RelayedCardResponse(
            response.status_code, content_type, response.content, _as_compact(response.content)
        )

    # ------------------------------------------------------------------ plumbing

    async def _exchange(
        self, kind: CardDataKind, target: str | int, payload: Mapping[str, Any], alg: JweRequestAlg | None
    ) -> dict[str, Any]:
        chosen = self._check_alg(alg) if alg is not None else self.alg
        key = await self.encryption_key()
        body, jwe_request = build_card_encrypted_payload(
            payload, key.key, key_version=key.version, alg=chosen
        )
        response = await self._post_approvable(kind, target, body, jwe_request)
        if response.status_code in _KEY_SUSPECT_STATUSES:
            fresh = await self.encryption_key(refresh=True)
            if fresh != key:
                logger.info(
                    "card key changed (version %d -> %d); re-encrypting once", key.version, fresh.version
                )
                body, jwe_request = build_card_encrypted_payload(
                    payload, fresh.key, key_version=fresh.version, alg=chosen
                )
                response = await self._post_approvable(kind, target, body, jwe_request)
        return self._read(response, jwe_request)

    @staticmethod
    def _read(response: httpx.Response, jwe_request: JweRequest) -> dict[str, Any]:
        if response.is_error:
            raise make_status_error(response)
        return parse_card_response(response.content, response.headers.get("content-type"), jwe_request)

    async def _post(self, kind: CardDataKind, target: str | int, body: Mapping[str, Any]) -> httpx.Response:
        if kind not in PATHS:
            raise ValueError(f"kind must be one of {sorted(PATHS)}")
        header = ORDER_ID_HEADER if kind == "preset-pin" else CARD_TOKEN_HEADER
        headers = {header: _header_value(header, target)}
        return await self._http.post(PATHS[kind], json=dict(body), headers=headers, extensions=_NO_JOSE)

    async def _post_approvable(
        self, kind: CardDataKind, target: str | int, body: Mapping[str, Any], jwe_request: JweRequest
    ) -> httpx.Response:
        """POST, attaching an SCA resume that replays the identical request and reads its answer."""
        try:
            return await self._post(kind, target, body)
        except ScaRequiredError as exc:
            if exc.request is not None and not isinstance(exc, ScaRejectedError):
                exc._resume = self._resumer(exc.request, jwe_request, kind)
            raise

    def _resumer(self, original: httpx.Request, jwe_request: JweRequest, kind: CardDataKind) -> Any:
        async def resume(approval: Mapping[str, str]) -> Any:
            headers = httpx.Headers(original.headers)
            headers.pop("Authorization", None)  # the auth flow attaches a current token
            headers.update(approval)
            response = await self._http.request(
                original.method,
                original.url,
                headers=headers,
                content=original.content,
                extensions={k: v for k, v in original.extensions.items() if k.startswith("wise_")},
            )
            data = self._read(response, jwe_request)
            if kind == "details":
                return SensitiveCardDetails.from_response(data)
            if kind == "pin":
                return CardPin.from_response(data)
            return str(data.get("cardOrderId", ""))

        return resume
