"""The JOSE layer of the httpx stack: encrypt/sign request bodies, decrypt/verify responses, once.

Where it sits, and why::

    httpx.AsyncClient(auth=WiseAuth)            token, 401 refresh, SCA replay   (sees plaintext)
      └── JoseTransport                         this module                      (plaintext ⇄ JOSE)
            └── RetryingTransport               429 / 5xx / connection retries   (resends ciphertext)
                  └── real transport / FakeWise

* Below the auth flow, so every replay the auth flow makes (after a token refresh or an SCA approval)
  arrives here as the *original plaintext* request and is protected afresh: each exchange gets its own
  CEK, and the auth flow, the SCA handler and the generated parsers only ever see plaintext.
* Above the retrying transport, so a transport-level retry resends the identical ciphertext and its
  ``dir`` response still decrypts with the CEK kept here.
* In the transport rather than in each operation, so facade methods, direct ``wise_api`` calls, raw
  ``wise.http_client`` requests and the SCA solver's verify calls are all covered by one code path.

Which requests: the per-request extension ``wise_jose`` (``"jwe"``, ``"jws"``, ``"jws+jwe"``, or
``"off"``) always wins. Otherwise, when the client was given ``jose_keys``, any request whose operation
declares an ``application/jose+json`` body, or that carries ``X-TW-JOSE-Method``, is handled with the
method that header names (default ``jwe``). Without ``jose_keys`` nothing is touched (plain JSON, which
only FakeWise accepts).

Request bodies: plaintext JSON (or the JSON string the generated code sends for ``body: str``) is
protected; a body that already is a compact JWE (``jwe``/``jws+jwe``) or JWS (``jws``) — e.g. made on
the end user's device — is sent unchanged. Empty bodies stay empty.

Responses: empty bodies and plain JSON errors pass through. A compact JWE is decrypted with the
request's CEK when its header says ``dir``, else with the client key (RSA-OAEP-256, ``kid`` must match);
no other algorithm, encryption or key is accepted. For ``jws``/``jws+jwe`` a 2xx body must verify under
Wise's PAYLOAD_SIGNING key. Failures raise typed :class:`~wise_async._exceptions.JoseError` subclasses.

Key refresh: Wise answers a request it cannot decrypt with a bare 500. After a 500 the layer fetches
Wise's encryption key again and, only if it changed (so Wise cannot have acted on the first request),
re-encrypts and sends once more. A JWS that fails verification triggers one refetch of Wise's signing key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final, Literal, cast

import httpx

from ._compact import as_compact, compact_segments
from ._exceptions import InvalidRequestError
from ._hooks import note_jose
from ._redaction import get_logger

if TYPE_CHECKING:
    from ._client import WiseClient
    from ._jose import ClientKeyPair, JweRequest, JwsAlg
    from ._operations import OperationSpec
    from .cards import CardKeys
    from .jose import JoseKeyring, WisePublicKey

__all__ = [
    "JOSE_CONTENT_TYPE",
    "JOSE_EXTENSION",
    "JOSE_METHOD_HEADER",
    "JOSE_RESPONSE_EXTENSION",
    "JoseSupport",
    "JoseTransport",
]

logger = get_logger("jose.transport")

JoseMethod = Literal["jwe", "jws", "jws+jwe"]
OperationFinder = Callable[[httpx.Request], "OperationSpec | None"]

JOSE_EXTENSION: Final = "wise_jose"
"""Request extension: ``"jwe"``, ``"jws"``, ``"jws+jwe"`` (force) or ``"off"`` (never)."""
JOSE_RESPONSE_EXTENSION: Final = "wise_jose_response"
"""Response extension saying how the body was read: ``dir``, ``RSA-OAEP-256``, ``jws``, ``plain``,
``empty`` or ``undecrypted`` (a ``dir`` answer to a caller-built JWE, whose maker alone holds the CEK;
or an error status whose body could not be read, left as is so the status error surfaces)."""
JOSE_METHOD_HEADER: Final = "X-TW-JOSE-Method"
JOSE_CONTENT_TYPE: Final = "application/jose+json"
_METHODS: Final[tuple[JoseMethod, ...]] = ("jwe", "jws", "jws+jwe")
_OFF: Final = frozenset({"off", "none", "false"})
_DROP_RESPONSE_HEADERS: Final = ("content-length", "content-encoding", "transfer-encoding")


def _split_request_body(content: bytes, method: JoseMethod) -> tuple[bytes | None, str | None]:
    """(plaintext to protect, pre-built token to send as is); both None for an empty body."""
    text = content.strip()
    if not text:
        return None, None
    compact = as_compact(text)
    if compact is not None:
        outer_is_jwe = method in ("jwe", "jws+jwe")
        if (compact_segments(compact) == 4) == outer_is_jwe:
            return None, compact  # already protected by the caller (e.g. on the user's device)
        return compact.encode("ascii"), None  # a signed JWS to encrypt (jws+jwe done half by hand)
    if text[:1] == b'"':
        # The generated code JSON-encodes ``body: str``: the string is the plaintext document.
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, str):
            return value.encode("utf-8"), None
    return text, None


class JoseTransport(httpx.AsyncBaseTransport):
    """JOSE for the requests that need it (see module docstring); everything else passes untouched."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        *,
        keyring: Callable[[], JoseKeyring],
        operation_for: OperationFinder,
        automatic: bool,
    ) -> None:
        self._transport = transport
        self._keyring = keyring
        self._operation_for = operation_for
        self.automatic = automatic

    async def aclose(self) -> None:
        await self._transport.aclose()

    def method_for(self, request: httpx.Request) -> JoseMethod | None:
        """Which JOSE method applies to ``request``, or None to leave it alone."""
        forced = request.extensions.get(JOSE_EXTENSION)
        if forced is None and not self.automatic:
            return None  # JOSE off for this client: no header to read
        header = request.headers.get(JOSE_METHOD_HEADER, "").strip().lower()
        named: JoseMethod | None = next((m for m in _METHODS if m == header), None)
        if forced is not None:
            if forced is False or (isinstance(forced, str) and forced.lower() in _OFF):
                return None
            if forced is True:
                return named or "jwe"
            chosen = next((m for m in _METHODS if m == forced), None)
            if chosen is None:
                raise InvalidRequestError(
                    f"{JOSE_EXTENSION} must be one of {_METHODS} or 'off', not {forced!r:.20}"
                )
            return chosen
        if not self.automatic:
            return None
        if named is not None:
            return named
        op = self._operation_for(request)
        if op is not None and JOSE_CONTENT_TYPE in op.request_content_types:
            return "jwe"
        return None

    def handle_async_request(self, request: httpx.Request) -> Coroutine[Any, Any, httpx.Response]:
        # Not ``async``: the inner transport's call is handed back to be awaited (no frame of ours on
        # every resumption of a request that needs no JOSE).
        method = self.method_for(request)
        if method is None:
            return self._transport.handle_async_request(request)
        return self._exchange(request, method)

    # ------------------------------------------------------------------ one JOSE exchange

    async def _exchange(self, request: httpx.Request, method: JoseMethod) -> httpx.Response:
        keyring = self._keyring()
        content = await request.aread()
        plaintext, prebuilt = _split_request_body(content, method)
        wise_key: WisePublicKey | None = None
        if plaintext is not None and method != "jws":
            wise_key = await keyring.wise_encryption_key()
        started = time.perf_counter()
        body, jwe_request = self._protect(request, method, plaintext, prebuilt, keyring, wise_key)
        if plaintext is not None:
            await note_jose(method, started)
        response = await self._send(request, method, body)

        if response.status_code == 500 and wise_key is not None and plaintext is not None:
            # Wise's only signal for "could not decrypt": see whether its key changed under us.
            await response.aread()
            await response.aclose()
            fresh = await keyring.refresh_wise_key(wise_key)
            if fresh == wise_key:
                logger.debug("JOSE %s %s: HTTP 500 and Wise's key is unchanged", method, request.url.path)
                return self._plain(request, response, "plain")
            logger.info(
                "JOSE %s %s: HTTP 500 after Wise rotated its encryption key; re-encrypting once",
                method,
                request.url.path,
            )
            started = time.perf_counter()
            body, jwe_request = self._protect(request, method, plaintext, prebuilt, keyring, fresh)
            await note_jose(method, started)
            response = await self._send(request, method, body)
        caller_built = prebuilt is not None
        if response.is_success:
            return await self._read_response(request, response, method, jwe_request, keyring, caller_built)
        from ._exceptions import JoseError

        try:
            return await self._read_response(request, response, method, jwe_request, keyring, caller_built)
        except JoseError as exc:
            # An error answer we cannot read is still an error answer: surface its status, not ours.
            logger.debug("JOSE error response %d left as is (%s)", response.status_code, type(exc).__name__)
            return self._plain(request, response, "undecrypted")

    def _protect(
        self,
        request: httpx.Request,
        method: JoseMethod,
        plaintext: bytes | None,
        prebuilt: str | None,
        keyring: JoseKeyring,
        wise_key: WisePublicKey | None,
    ) -> tuple[bytes, JweRequest | None]:
        from joserfc.jwk import RSAKey

        from ._jose import JoseKeyError, encrypt_jwe, sign_jws

        if plaintext is None:
            return (prebuilt or "").encode("ascii"), None
        if method in ("jws", "jws+jwe") and compact_segments(plaintext.decode("latin-1")) != 2:
            signing_key, alg = keyring.signing_key, keyring.jws_algorithm
            if signing_key is None or alg is None:
                raise JoseKeyError(
                    "JWS requests need JoseKeyring(signing_key=...), uploaded as PAYLOAD_SIGNING"
                )
            plaintext = sign_jws(plaintext, signing_key, alg=alg, url=request.url.path).encode("ascii")
        if method == "jws":
            return plaintext, None
        if wise_key is None or not isinstance(wise_key.key, RSAKey):  # pragma: no cover - WisePublicKey.build
            raise JoseKeyError("Wise's PAYLOAD_ENCRYPTION key must be an RSA key")
        jwe_request = encrypt_jwe(plaintext, wise_key.key, alg="RSA-OAEP-256", enc="A256GCM")
        return jwe_request.compact.encode("ascii"), jwe_request

    async def _send(self, request: httpx.Request, method: JoseMethod, body: bytes) -> httpx.Response:
        headers = httpx.Headers(request.headers)
        for name in ("content-length", "transfer-encoding", "content-type", "content-encoding"):
            headers.pop(name, None)
        headers[JOSE_METHOD_HEADER] = method
        headers["Accept"] = JOSE_CONTENT_TYPE
        headers["Accept-Encoding"] = "identity"
        if body:
            headers["Content-Type"] = JOSE_CONTENT_TYPE
            headers["Content-Encoding"] = "identity"
        wire = httpx.Request(
            request.method, request.url, headers=headers, content=body, extensions=request.extensions
        )
        logger.debug(
            "JOSE %s request %s %s (%d bytes on the wire)",
            method,
            request.method,
            request.url.path,
            len(body),
        )
        return await self._transport.handle_async_request(wire)

    async def _read_response(
        self,
        request: httpx.Request,
        response: httpx.Response,
        method: JoseMethod,
        jwe_request: JweRequest | None,
        keyring: JoseKeyring,
        caller_built: bool,
    ) -> httpx.Response:
        from ._jose import JweDecryptionError, JwsVerificationError

        try:
            content = await response.aread()
        finally:
            await response.aclose()
        if not content.strip():
            return self._plain(request, response, "empty")
        compact = as_compact(content)
        if compact is None:
            if method != "jwe" and response.is_success:
                raise JwsVerificationError(
                    f"{method} response from Wise is not signed (compact JWS expected)"
                )
            return self._plain(request, response, "plain")  # plain JSON: errors, or spec-shaped answers

        segments = compact_segments(compact)
        if method == "jws":
            if segments != 2:
                raise JwsVerificationError("jws response from Wise is not a compact JWS")
            payload = await self._verify(compact, keyring)
            return self._decoded(request, response, payload, "jws")
        if segments != 4:
            raise JweDecryptionError(f"{method} response from Wise is not a compact JWE")
        decrypted, how = self._decrypt(compact, jwe_request, keyring, caller_built)
        if decrypted is None:
            return self._plain(request, response, "undecrypted")
        if method == "jws+jwe":
            inner = as_compact(decrypted)
            if inner is None or compact_segments(inner) != 2:
                raise JwsVerificationError("decrypted jws+jwe response is not a compact JWS")
            decrypted = await self._verify(inner, keyring)
        return self._decoded(request, response, decrypted, how)

    @staticmethod
    def _decrypt(
        compact: str, jwe_request: JweRequest | None, keyring: JoseKeyring, caller_built: bool
    ) -> tuple[bytes | None, str]:
        """Decrypt with one of *our* keys; the header only says which of the two it claims to use."""
        from ._jose import (
            JoseKeyError,
            JweDecryptionError,
            _read_protected_header,
            decrypt_jwe,
            decrypt_jwe_with_cek,
        )

        header = _read_protected_header(compact, segments=5, error=JweDecryptionError, what="JWE")
        if header.get("alg") == "dir":
            if jwe_request is None:
                if caller_built:
                    return None, "undecrypted"  # whoever built the JWE (the device) holds the CEK
                raise JweDecryptionError("'dir' response, but no JWE request (and so no CEK) was sent")
            return decrypt_jwe_with_cek(compact, jwe_request.cek), "dir"
        client_key = keyring.client_key
        if client_key is None:
            raise JoseKeyError(
                "Wise encrypted the response to a client key, but JoseKeyring has no client_key"
            )
        plaintext = decrypt_jwe(
            compact, client_key, expected_kid=client_key.kid, algorithms=keyring.response_algorithms
        )
        return plaintext, str(header["alg"])

    @staticmethod
    async def _verify(compact: str, keyring: JoseKeyring) -> bytes:
        from ._jose import JwsVerificationError, verify_jws

        key = await keyring.wise_signing_key()
        try:
            return verify_jws(compact, key.key, algorithms=[cast("JwsAlg", key.algorithm)])
        except JwsVerificationError:
            fresh = await keyring.refresh_wise_key(key)
            if fresh == key:
                raise
            logger.info("JWS did not verify; Wise's signing key changed, verifying once more")
            return verify_jws(compact, fresh.key, algorithms=[cast("JwsAlg", fresh.algorithm)])

    @staticmethod
    def _plain(request: httpx.Request, response: httpx.Response, how: str) -> httpx.Response:
        return JoseTransport._rebuilt(request, response, response.content, how, content_type=None)

    @staticmethod
    def _decoded(
        request: httpx.Request, response: httpx.Response, payload: bytes, how: str
    ) -> httpx.Response:
        logger.debug("JOSE response %s %s read (%s)", request.method, request.url.path, how)
        return JoseTransport._rebuilt(request, response, payload, how, content_type="application/json")

    @staticmethod
    def _rebuilt(
        request: httpx.Request,
        response: httpx.Response,
        content: bytes,
        how: str,
        *,
        content_type: str | None,
    ) -> httpx.Response:
        headers = httpx.Headers(response.headers)
        for name in _DROP_RESPONSE_HEADERS:
            headers.pop(name, None)
        if content_type is not None:
            headers["Content-Type"] = content_type
        extensions = {**response.extensions, JOSE_RESPONSE_EXTENSION: how}
        return httpx.Response(
            response.status_code, headers=headers, content=content, request=request, extensions=extensions
        )


class JoseSupport:
    """What ``WiseClient`` keeps for JOSE: the keyring, the transport layer and the card key cache.

    One is shared by a client and every client derived from it (``with_options``): the keyring and
    the card key cache are the same for all, while each client's ``jose_keys`` / ``card_secrets``
    sends with that client's defaults. The keyring and card helpers (and with them joserfc) are only
    imported when first used, so a client that never touches JOSE pays nothing for it.
    """

    def __init__(
        self, jose_keys: JoseKeyring | ClientKeyPair | None, *, operation_for: OperationFinder
    ) -> None:
        self._given = jose_keys
        self._operation_for = operation_for
        self._keyring: JoseKeyring | None = None
        self._card_keys: CardKeys | None = None
        self._client: WiseClient | None = None

    def wrap(self, transport: httpx.AsyncBaseTransport) -> JoseTransport:
        return JoseTransport(
            transport,
            keyring=lambda: self.keyring,
            operation_for=self._operation_for,
            automatic=self._given is not None,
        )

    def bind(self, client: WiseClient) -> None:
        """The client that owns the httpx stack: the transport layer's own key fetches go through it."""
        self._client = client
        self._keyring = None

    @property
    def keyring(self) -> JoseKeyring:
        """The given keyring as this client uses it: a keyring several clients share keeps one cache of
        Wise's keys, but each client's fetches go through that client (``for_client``)."""
        if self._keyring is None:
            from .jose import JoseKeyring

            keyring = JoseKeyring.coerce(self._given)
            self._keyring = keyring if self._client is None else keyring.for_client(self._client)
        return self._keyring

    @property
    def card_keys(self) -> CardKeys:
        """The card encryption keys fetched so far (and the key wrap), for every client sharing this."""
        if self._card_keys is None:
            from .cards import CardKeys

            self._card_keys = CardKeys()
        return self._card_keys
