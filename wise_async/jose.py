"""JOSE key management for Wise's encrypted and signed endpoints.

A :class:`JoseKeyring` holds the client's own keys and caches Wise's. Give one to the client and every
operation that speaks JOSE (SCA PIN and device-fingerprint create/verify, the OTT verify endpoints, the
JOSE playgrounds) is encrypted and/or signed on the way out and decrypted/verified on the way back, by
one httpx layer (:mod:`wise_async._jose_transport`)::

    keys = JoseKeyring.generate()                     # RSA key for responses, EC P-521 for JWS
    async with WiseClient(..., jose_keys=keys) as wise:
        await wise.jose_keys.upload_public_key("PAYLOAD_ENCRYPTION")   # once: Wise encrypts to it
        await wise.jose_keys.upload_public_key("PAYLOAD_SIGNING")      # once: Wise checks our JWS

    pem = keys.client_key.export_private_pem(password=b"...")         # persist; reload with from_pem

Wise's keys (``GET /v1/auth/jose/response/public-keys``, client-credentials token) are fetched on first
use, cached per scope, and fetched again only after a failure that a rotated key would explain. They
can also be pinned (``wise_encryption_key=``, ``wise_signing_key=``), which disables fetching. The
methods that reach Wise take the per-call options of any SDK call (``timeout=``, ``extra_headers=``...)
and send with the defaults of the client they were reached through (``wise.jose_keys``).

Algorithms are fixed per use and never taken from a token: requests RSA-OAEP-256 + A256GCM; responses
``dir`` with the request's CEK or RSA-OAEP-256 to :attr:`JoseKeyring.client_key` (its ``kid`` must
match); JWS with the one algorithm of each key. Nothing here shows key material in ``repr``/``str``.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

import anyio
import attrs
import httpx
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import ECKey, RSAKey

from ._exceptions import (
    ConfigurationError,
    InvalidRequestError,
    JoseError,
    make_status_error,
)
from ._jose import (
    JWE_DECRYPT_ALGORITHMS,
    JWS_ALGORITHMS,
    ClientKeyPair,
    JoseAlgorithmError,
    JoseKeyError,
    JweDecryptAlg,
    JweDecryptionError,
    JweRequest,
    JwsAlg,
    JwsVerificationError,
    KeyKind,
    load_public_key,
)
from ._operations import operation_path
from ._options import check_options
from ._redaction import get_logger
from .cards import CardPin, SensitiveCardDetails  # re-exported: card data lives in wise_async.cards

if TYPE_CHECKING:
    from typing_extensions import Unpack
    from wise_api.models.jose_request_public_keys_create_response_201 import (
        JoseRequestPublicKeysCreateResponse201,
    )

    from ._client import SendRequest, WiseClient
    from ._options import RequestOptions

__all__ = [
    "CLIENT_KEYS_PATH",
    "WISE_KEYS_PATH",
    "CardPin",
    "ClientKeyPair",
    "JoseAlgorithmError",
    "JoseError",
    "JoseKeyError",
    "JoseKeyring",
    "JweDecryptionError",
    "JweRequest",
    "JwsVerificationError",
    "KeyScope",
    "SensitiveCardDetails",
    "WisePublicKey",
]

logger = get_logger("jose.keys")

KeyScope = Literal["PAYLOAD_ENCRYPTION", "PAYLOAD_SIGNING"]

# Where the spec documents them; calls go wherever the bundle puts the operations (``operation_path``).
WISE_KEYS_PATH: Final = "/v1/auth/jose/response/public-keys"
CLIENT_KEYS_PATH: Final = "/v1/auth/jose/request/public-keys"
#: Wise's request encryption algorithm (the only one it supports).
REQUEST_ENCRYPTION_ALG: Final = "RSA-OAEP-256"
_SCOPES: Final = ("PAYLOAD_ENCRYPTION", "PAYLOAD_SIGNING")
_DEFAULT_RESPONSE_ALGS: Final[tuple[JweDecryptAlg, ...]] = ("RSA-OAEP-256",)
_VALIDITY_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
# Extension understood by the JOSE transport; the key fetch itself must never be JOSE-wrapped.
_JOSE_OFF: Final = {"wise_jose": "off"}
_JWS_KIND: Final[dict[str, tuple[KeyKind, ...]]] = {
    "ES256": ("EC-P256",),
    "ES384": ("EC-P384",),
    "ES512": ("EC-P521",),
    "PS256": ("RSA",),
    "PS384": ("RSA",),
    "PS512": ("RSA",),
}
_CURVE_KIND: Final[dict[str, KeyKind]] = {"P-256": "EC-P256", "P-384": "EC-P384", "P-521": "EC-P521"}


def _wire_algorithm(alg: str) -> str:
    """Wise's enum spelling: ``RSA_OAEP_256`` for RSA-OAEP-256, JWS names unchanged."""
    return alg.replace("-", "_")


def _kind_of(key: RSAKey | ECKey) -> KeyKind:
    if isinstance(key, RSAKey):
        return "RSA"
    kind = _CURVE_KIND.get(key.curve_name)
    if kind is None:
        raise JoseKeyError(f"unsupported EC curve {key.curve_name!r}")
    return kind


def _check_jws_fit(alg: str, key: RSAKey | ECKey, what: str) -> None:
    if alg not in JWS_ALGORITHMS:
        raise JoseAlgorithmError(f"{what}: JWS alg {alg!r} is not one of {sorted(JWS_ALGORITHMS)}")
    if _kind_of(key) not in _JWS_KIND[alg]:
        raise JoseKeyError(f"{what}: a {_kind_of(key)} key cannot make {alg} signatures")


def _spki_der(key: RSAKey | ECKey) -> bytes:
    return key.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@attrs.frozen
class WisePublicKey:
    """One of Wise's public keys, as fetched (or pinned): what it is for and which algorithm it takes."""

    scope: KeyScope
    algorithm: str
    """JOSE name: ``RSA-OAEP-256`` (encryption) or the JWS algorithm (signing)."""
    key: RSAKey | ECKey = attrs.field(repr=False, eq=False)
    key_id: str | None = None
    version: int | None = None
    fingerprint: str = attrs.field(default="")
    """First 16 hex digits of SHA-256 over the DER SubjectPublicKeyInfo: tells keys apart in logs."""

    @classmethod
    def build(
        cls,
        scope: KeyScope,
        algorithm: str,
        material: RSAKey | ECKey | str | bytes,
        *,
        key_id: str | None = None,
        version: int | None = None,
    ) -> WisePublicKey:
        key = material if isinstance(material, (RSAKey, ECKey)) else load_public_key(material)
        if key.is_private:
            key = load_public_key(_spki_der(key))  # keep only the public half
        if scope == "PAYLOAD_ENCRYPTION":
            if algorithm != REQUEST_ENCRYPTION_ALG:
                raise JoseAlgorithmError(
                    f"Wise encryption keys are {REQUEST_ENCRYPTION_ALG}, not {algorithm!r}"
                )
            if not isinstance(key, RSAKey):
                raise JoseKeyError("Wise's PAYLOAD_ENCRYPTION key must be an RSA key")
        else:
            _check_jws_fit(algorithm, key, "Wise's PAYLOAD_SIGNING key")
        fingerprint = hashlib.sha256(_spki_der(key)).hexdigest()[:16]
        return cls(scope, algorithm, key, key_id, version, fingerprint)


class _WiseKeyCache:
    """Wise's fetched keys by scope: one per keyring, shared with its views (``for_client``)."""

    def __init__(self) -> None:
        self.keys: dict[str, WisePublicKey] = {}
        self.lock = anyio.Lock()
        self.fetches = 0


class JoseKeyring:
    """The client's JOSE keys and a cache of Wise's; hand it to ``WiseClient(jose_keys=...)``.

    * ``client_key`` — RSA :class:`ClientKeyPair` uploaded with scope ``PAYLOAD_ENCRYPTION``: Wise
      encrypts responses to it (RSA-OAEP-256, header ``kid`` = its ``kid``). Without it only
      direct-encryption (``dir``) responses can be read.
    * ``signing_key`` — EC or RSA :class:`ClientKeyPair` uploaded with scope ``PAYLOAD_SIGNING``, for
      ``jws`` and ``jws+jwe`` requests; ``jws_algorithm`` defaults to the key's natural one.
    * ``wise_signing_algorithm`` — which of Wise's PAYLOAD_SIGNING keys to fetch and verify with.
    * ``wise_encryption_key`` / ``wise_signing_key`` — pin Wise's keys (PEM or base64 DER) instead of
      fetching them.
    * ``response_algorithms`` — allow-list for responses encrypted to ``client_key``.
    """

    def __init__(
        self,
        client_key: ClientKeyPair | None = None,
        *,
        signing_key: ClientKeyPair | None = None,
        jws_algorithm: JwsAlg | None = None,
        wise_signing_algorithm: JwsAlg = "ES512",
        wise_encryption_key: str | bytes | None = None,
        wise_signing_key: str | bytes | None = None,
        response_algorithms: Collection[JweDecryptAlg] = _DEFAULT_RESPONSE_ALGS,
    ) -> None:
        if client_key is not None:
            if not isinstance(client_key, ClientKeyPair):
                raise ConfigurationError("client_key must be a ClientKeyPair")
            if client_key.kind != "RSA":
                raise JoseKeyError("client_key decrypts RSA-OAEP-256 responses: it must be an RSA key")
        if signing_key is not None and not isinstance(signing_key, ClientKeyPair):
            raise ConfigurationError("signing_key must be a ClientKeyPair")
        if jws_algorithm is not None:
            if signing_key is None:
                raise ConfigurationError("jws_algorithm needs a signing_key")
            _check_jws_fit(jws_algorithm, signing_key.jwk, "signing_key")
        if wise_signing_algorithm not in JWS_ALGORITHMS:
            raise JoseAlgorithmError(f"wise_signing_algorithm must be one of {sorted(JWS_ALGORITHMS)}")
        algorithms = tuple(dict.fromkeys(response_algorithms))
        bad = [a for a in algorithms if a not in JWE_DECRYPT_ALGORITHMS]
        if not algorithms or bad:
            raise JoseAlgorithmError(
                f"response_algorithms must be a non-empty subset of {sorted(JWE_DECRYPT_ALGORITHMS)}"
            )
        self._client_key = client_key
        self._signing_key = signing_key
        self._jws_algorithm: JwsAlg | None = jws_algorithm or (
            signing_key.default_jws_alg if signing_key is not None else None
        )
        self._wise_signing_algorithm: JwsAlg = wise_signing_algorithm
        self._response_algorithms: tuple[JweDecryptAlg, ...] = algorithms
        self._pinned: dict[str, WisePublicKey] = {}
        if wise_encryption_key is not None:
            self._pinned["PAYLOAD_ENCRYPTION"] = WisePublicKey.build(
                "PAYLOAD_ENCRYPTION", REQUEST_ENCRYPTION_ALG, wise_encryption_key
            )
        if wise_signing_key is not None:
            self._pinned["PAYLOAD_SIGNING"] = WisePublicKey.build(
                "PAYLOAD_SIGNING", wise_signing_algorithm, wise_signing_key
            )
        self._wise_keys = _WiseKeyCache()
        self._client: WiseClient | None = None

    @classmethod
    def generate(
        cls,
        *,
        signing: KeyKind | None = "EC-P521",
        rsa_key_size: int = 2048,
        **options: Any,
    ) -> JoseKeyring:
        """Fresh keys: an RSA ``client_key`` and (unless ``signing=None``) a ``signing_key``.

        Both get random UUID ``kid`` values. Upload them with :meth:`upload_public_key` and persist
        them (``ClientKeyPair.export_private_pem``): Wise knows them by ``kid`` from then on.
        """
        client_key = ClientKeyPair.generate("RSA", rsa_key_size=rsa_key_size)
        signing_key = ClientKeyPair.generate(signing, rsa_key_size=rsa_key_size) if signing else None
        return cls(client_key, signing_key=signing_key, **options)

    @classmethod
    def coerce(cls, value: JoseKeyring | ClientKeyPair | None) -> JoseKeyring:
        """What ``WiseClient(jose_keys=...)`` accepts: a keyring, a bare RSA client key, or nothing."""
        if value is None:
            return cls()
        if isinstance(value, JoseKeyring):
            return value
        if isinstance(value, ClientKeyPair):
            return cls(value)
        raise ConfigurationError(
            f"jose_keys must be a JoseKeyring or ClientKeyPair, not {type(value).__name__}"
        )

    def __repr__(self) -> str:
        def kid(key: ClientKeyPair | None) -> str | None:
            return key.kid if key is not None else None

        return (
            f"JoseKeyring(client_key={kid(self._client_key)!r}, signing_key={kid(self._signing_key)!r}, "
            f"jws_algorithm={self._jws_algorithm!r}, "
            f"wise_keys={sorted({**self._wise_keys.keys, **self._pinned})})"
        )

    __str__ = __repr__

    # ------------------------------------------------------------------ configuration

    @property
    def client_key(self) -> ClientKeyPair | None:
        """The RSA key Wise encrypts responses to (``kid``), if any."""
        return self._client_key

    @property
    def signing_key(self) -> ClientKeyPair | None:
        """The key that signs ``jws`` / ``jws+jwe`` requests, if any."""
        return self._signing_key

    @property
    def jws_algorithm(self) -> JwsAlg | None:
        return self._jws_algorithm

    @property
    def wise_signing_algorithm(self) -> JwsAlg:
        return self._wise_signing_algorithm

    @property
    def response_algorithms(self) -> tuple[JweDecryptAlg, ...]:
        return self._response_algorithms

    @property
    def fetch_count(self) -> int:
        """How many times Wise's keys were fetched (for tests and metrics)."""
        return self._wise_keys.fetches

    def bind(self, client: WiseClient) -> None:
        """Send this keyring's own requests (Wise's keys) through ``client`` (its stack and defaults).

        A ``WiseClient`` given the keyring as ``jose_keys`` uses it through :meth:`for_client`: the first
        such client binds it, others get views sharing its keys and cache.
        """
        self._client = client

    def for_client(self, client: WiseClient) -> JoseKeyring:
        """This keyring as ``client`` uses it: the same keys and cache of Wise's keys, but requests
        sent with ``client``'s defaults (a client derived with ``with_options`` gets such a view)."""
        if self._client is None or self._client is client:
            self._client = client
            return self
        view = copy.copy(self)  # shares the keys, the pinned keys and the cache (with its lock)
        view._client = client
        return view

    # ------------------------------------------------------------------ Wise's keys

    # Each method takes the per-call options of any SDK call (timeout, max_retries, extra_headers,
    # extra_query, extra_body, idempotency_key); a pinned or cached key is returned without a request.

    async def wise_encryption_key(self, **options: Unpack[RequestOptions]) -> WisePublicKey:
        """Wise's PAYLOAD_ENCRYPTION key (RSA-OAEP-256): pinned, cached, or fetched now."""
        return await self._wise_key("PAYLOAD_ENCRYPTION", stale=None, options=options)

    async def wise_signing_key(self, **options: Unpack[RequestOptions]) -> WisePublicKey:
        """Wise's PAYLOAD_SIGNING key for :attr:`wise_signing_algorithm`: pinned, cached, or fetched."""
        return await self._wise_key("PAYLOAD_SIGNING", stale=None, options=options)

    async def refresh_wise_key(
        self, stale: WisePublicKey, **options: Unpack[RequestOptions]
    ) -> WisePublicKey:
        """Fetch ``stale.scope`` again, unless another task already replaced ``stale``.

        Pinned keys are returned unchanged: a pinned key is never second-guessed.
        """
        return await self._wise_key(stale.scope, stale=stale, options=options)

    def forget_wise_keys(self) -> None:
        """Drop cached (not pinned) Wise keys; the next use fetches them."""
        self._wise_keys.keys.clear()

    async def _wise_key(
        self, scope: KeyScope, *, stale: WisePublicKey | None, options: Mapping[str, Any]
    ) -> WisePublicKey:
        if options:
            check_options(options)
        pinned = self._pinned.get(scope)
        if pinned is not None:
            return pinned
        cache = self._wise_keys
        cached = cache.keys.get(scope)
        if cached is not None and cached != stale:
            return cached

        async def run(send: SendRequest) -> WisePublicKey:
            async with cache.lock:
                cached = cache.keys.get(scope)
                if cached is not None and cached != stale:
                    return cached  # another task fetched it meanwhile
                fresh = await self._fetch(send, scope)
                cache.keys[scope] = fresh
                return fresh

        client = self._require_client()
        return await client._logical_call(run, operation_id="joseResponsePublicKeysGet", options=options)

    async def _fetch(self, send: SendRequest, scope: KeyScope) -> WisePublicKey:
        algorithm = REQUEST_ENCRYPTION_ALG if scope == "PAYLOAD_ENCRYPTION" else self._wise_signing_algorithm
        response = await send(
            {
                "method": "GET",
                "url": operation_path("joseResponsePublicKeysGet", WISE_KEYS_PATH),
                "params": {"algorithm": _wire_algorithm(algorithm), "scope": scope},
                "extensions": _JOSE_OFF,
            }
        )
        if not response.is_success:
            raise make_status_error(response, message=f"could not fetch Wise's {scope} key")
        self._wise_keys.fetches += 1
        try:
            data = response.json()
            material = data["keyMaterial"]
            wire_alg = material.get("algorithm")
            key_material = material["keyMaterial"]
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            raise JoseKeyError(f"Wise's {scope} key response has no keyMaterial") from None
        if wire_alg is not None and wire_alg != _wire_algorithm(algorithm):
            raise JoseAlgorithmError(f"asked Wise for a {algorithm} {scope} key, got one for {wire_alg!r}")
        if data.get("scope") not in (None, scope):
            raise JoseKeyError(f"asked Wise for a {scope} key, got scope {data.get('scope')!r}")
        version = data.get("version")
        key = WisePublicKey.build(
            scope,
            algorithm,
            key_material,
            key_id=data.get("keyId") if isinstance(data.get("keyId"), str) else None,
            version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        )
        logger.debug(
            "fetched Wise %s key (alg=%s, version=%s, fingerprint=%s)",
            scope,
            algorithm,
            key.version,
            key.fingerprint,
        )
        return key

    def _require_client(self) -> WiseClient:
        if self._client is None:
            raise RuntimeError("this JoseKeyring is not attached to a WiseClient (pass it as jose_keys=)")
        return self._client

    # ------------------------------------------------------------------ the client's keys

    async def upload_public_key(
        self,
        scope: KeyScope = "PAYLOAD_ENCRYPTION",
        *,
        key: ClientKeyPair | None = None,
        valid_from: datetime.datetime | None = None,
        valid_till: datetime.datetime | None = None,
        **options: Unpack[RequestOptions],
    ) -> JoseRequestPublicKeysCreateResponse201:
        """Register a public key with Wise (``joseRequestPublicKeysCreate``, client-credentials token).

        ``PAYLOAD_ENCRYPTION`` uploads :attr:`client_key` (algorithm ``RSA_OAEP_256``);
        ``PAYLOAD_SIGNING`` uploads :attr:`signing_key` with :attr:`jws_algorithm`. ``key`` overrides
        which key is sent (e.g. during a rotation). Only the public half leaves the process. Takes the
        per-call options of any SDK call; the upload has no idempotency key, so it is never sent twice.
        """
        if scope not in _SCOPES:
            raise InvalidRequestError(f"scope must be one of {_SCOPES}")
        if options:
            check_options(options)
        if scope == "PAYLOAD_ENCRYPTION":
            chosen = key or self._client_key
            if chosen is None or chosen.kind != "RSA":
                raise JoseKeyError("PAYLOAD_ENCRYPTION needs an RSA client key")
            algorithm = REQUEST_ENCRYPTION_ALG
        else:
            chosen = key or self._signing_key
            if chosen is None:
                raise JoseKeyError("PAYLOAD_SIGNING needs a signing key")
            algorithm = self._jws_algorithm if key is None and self._jws_algorithm else chosen.default_jws_alg
            _check_jws_fit(algorithm, chosen.jwk, "signing key")
        body: dict[str, Any] = {
            "keyId": chosen.kid,
            "scope": scope,
            "publicKeyMaterial": {
                "algorithm": _wire_algorithm(algorithm),
                "keyMaterial": chosen.public_key_material_b64(),
            },
        }
        for name, value in (("validFrom", valid_from), ("validTill", valid_till)):
            if value is not None:
                utc = value.astimezone(datetime.timezone.utc) if value.tzinfo else value
                body[name] = utc.strftime(_VALIDITY_FORMAT)
        client = self._require_client()
        request = {
            "method": "POST",
            "url": operation_path("joseRequestPublicKeysCreate", CLIENT_KEYS_PATH),
            "json": body,
            "extensions": _JOSE_OFF,
        }

        async def run(send: SendRequest) -> httpx.Response:
            return await send(request)

        response = await client._logical_call(
            run, operation_id="joseRequestPublicKeysCreate", options=options
        )
        if not response.is_success:
            raise make_status_error(response, message=f"could not upload the {scope} key")
        from wise_api.models.jose_request_public_keys_create_response_201 import (
            JoseRequestPublicKeysCreateResponse201,
        )

        logger.info("uploaded client %s key kid=%s (%s)", scope, chosen.kid, algorithm)
        return JoseRequestPublicKeysCreateResponse201.from_dict(response.json())
