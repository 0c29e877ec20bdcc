"""JOSE primitives for Wise: JWE request/response encryption, JWS signing (card data: ``cards.py``).

Transport-independent: nothing here performs HTTP. The client layer decides *which* key and allow-list
apply to a call and hands them in; this module never lets a token pick either. Every compact token's
protected header is checked against the caller's allow-list (``alg``, ``enc``, ``kid``, header
parameters) *before* any key is touched, and ``alg: none`` is refused outright.

Exceptions (all :class:`~wise_async._exceptions.JoseError`)::

    JoseError
     ├── JoseAlgorithmError      alg / enc / kid / header parameter outside the allow-list, or "none"
     ├── JoseKeyError            key material unusable: unparsable, wrong type, too small, not private
     ├── JweDecryptionError      malformed JWE, failed authentication tag, wrong key
     └── JwsVerificationError    malformed JWS, bad signature, key does not fit the algorithm

Secrets (private keys, CEKs, decrypted card data) never appear in ``repr``/``str``, log records or
exception messages; card values are only reachable through explicit ``reveal_*()`` accessors.

joserfc notes (1.8):

* ``JWERegistry`` refuses RSA-OAEP-256 and RSA1_5 unless named in ``algorithms``; every call here
  builds its own registry pinned to exactly one ``alg`` and one ``enc``.
* joserfc generates the CEK internally and offers no way to read it back, yet Wise's "direct
  encryption" responses (``alg: dir``) are encrypted with the request's CEK. :class:`_RequestRegistry`
  therefore wraps the ``enc`` model so joserfc's ``generate_cek()`` returns a CEK we generated, and
  fails closed if a future joserfc stops asking for it.
* joserfc emits ``SecurityWarning`` whenever RSA1_5 is looked up. Wise's card guide mandates RSA1_5
  for the twcard endpoints, and the padding-oracle attacks behind the deprecation target the
  *decrypting* side (Wise), not us as the encrypter. When a caller explicitly passes
  ``alg="RSA1_5"`` to :func:`encrypt_jwe` the registry returns the model without the warning, per
  call and without touching the process-wide warning filters (``warnings.catch_warnings`` is not
  thread-safe). We never *decrypt* RSA1_5.
* ``RSAKey.import_key`` only warns on keys below 2048 bits; :func:`load_public_key` rejects them.
* JWS ``b64``/``crit`` (RFC 7797) are accepted by joserfc's default header registry; they are not in
  our allow-list, so such tokens are refused. Wise's JWS responses carry a ``version`` header and no
  ``kid`` (see the playground example), so ``version`` is allowed and ``expected_kid`` is optional.
* joserfc's default size limits (64 KiB JWE ciphertext, 128 KB JWS payload) are below what large
  Wise responses can reach; our registries raise them to :data:`MAX_JOSE_PAYLOAD_BYTES`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import secrets
import uuid
from collections.abc import Collection, Mapping
from typing import Any, Final, Literal, cast

import attrs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwe, jws
from joserfc.errors import JoseError as _JoserfcError
from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jwa import JWEAlgModel, JWEEncModel
from joserfc.jwe import JWERegistry
from joserfc.jwk import ECKey, OctKey, RSAKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from ._exceptions import JoseError
from ._redaction import get_logger

__all__ = [
    "JWE_CONTENT_ENCRYPTIONS",
    "JWE_DECRYPT_ALGORITHMS",
    "JWE_REQUEST_ALGORITHMS",
    "JWS_ALGORITHMS",
    "MAX_JOSE_PAYLOAD_BYTES",
    "ClientKeyPair",
    "JoseAlgorithmError",
    "JoseKeyError",
    "JweDecryptionError",
    "JweRequest",
    "JwsVerificationError",
    "decrypt_jwe",
    "decrypt_jwe_with_cek",
    "decrypt_then_verify",
    "encrypt_jwe",
    "load_public_key",
    "sign_jws",
    "sign_then_encrypt",
    "verify_jws",
]

logger = get_logger("jose")

# --------------------------------------------------------------------------------------------------
# Allow-lists

JweRequestAlg = Literal["RSA-OAEP-256", "RSA1_5"]
JweDecryptAlg = Literal["RSA-OAEP-256", "RSA-OAEP"]
JweEnc = Literal["A256GCM"]
JwsAlg = Literal["ES256", "ES384", "ES512", "PS256", "PS384", "PS512"]
KeyKind = Literal["RSA", "EC-P256", "EC-P384", "EC-P521"]

#: Key-management algorithms we will encrypt requests with (RSA1_5 only for the card endpoints).
JWE_REQUEST_ALGORITHMS: Final[frozenset[str]] = frozenset({"RSA-OAEP-256", "RSA1_5"})
#: Key-management algorithms we will decrypt responses with. Never RSA1_5: decrypting PKCS#1 v1.5
#: is what padding-oracle attacks exploit.
JWE_DECRYPT_ALGORITHMS: Final[frozenset[str]] = frozenset({"RSA-OAEP-256", "RSA-OAEP"})
#: Content encryption: Wise uses A256GCM everywhere, and ``dir`` responses reuse its 256-bit CEK.
JWE_CONTENT_ENCRYPTIONS: Final[frozenset[str]] = frozenset({"A256GCM"})
#: Signature algorithms Wise accepts and issues (no HMAC, no RS*, never "none").
JWS_ALGORITHMS: Final[frozenset[str]] = frozenset({"ES256", "ES384", "ES512", "PS256", "PS384", "PS512"})
#: Upper bound for JWE ciphertext / JWS payload accepted from Wise (joserfc defaults are 64-128 KB).
MAX_JOSE_PAYLOAD_BYTES: Final[int] = 8 * 1024 * 1024

_DEFAULT_DECRYPT_ALGS: Final[tuple[JweDecryptAlg, ...]] = ("RSA-OAEP-256",)
_CEK_BYTES: Final[int] = 32  # A256GCM
_MIN_RSA_BITS: Final[int] = 2048
_EC_KINDS: Final[dict[str, KeyKind]] = {"P-256": "EC-P256", "P-384": "EC-P384", "P-521": "EC-P521"}
_EC_CURVES: Final[dict[str, ec.EllipticCurve]] = {
    "EC-P256": ec.SECP256R1(),
    "EC-P384": ec.SECP384R1(),
    "EC-P521": ec.SECP521R1(),
}
_DEFAULT_JWS_ALG: Final[dict[KeyKind, JwsAlg]] = {
    "RSA": "PS256",
    "EC-P256": "ES256",
    "EC-P384": "ES384",
    "EC-P521": "ES512",
}

# Protected-header parameters we accept. Anything else (crit, b64, zip, jku, jwk, x5u, x5c, epk, ...)
# could change how the token is processed or which key is used, so it is refused.
_JWE_HEADER_PARAMS: Final[frozenset[str]] = frozenset({"alg", "enc", "kid", "typ", "cty"})
_JWS_HEADER_PARAMS: Final[frozenset[str]] = frozenset({"alg", "kid", "typ", "cty", "url", "version"})


def _int_or_str(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("must be an int or str")


# joserfc's strict header check rejects unregistered names; Wise adds ``url`` (requests) and
# ``version`` (responses).
_WISE_JWS_HEADER_REGISTRY: Final[dict[str, HeaderParameter]] = {
    "url": HeaderParameter("Request path the JWS is bound to", "str"),
    "version": HeaderParameter("Version of Wise's signing key", _int_or_str),
}

# --------------------------------------------------------------------------------------------------
# Exceptions


class JoseAlgorithmError(JoseError):
    """A token's ``alg``/``enc``/``kid`` or header parameters fall outside the allow-list (or ``none``)."""


class JoseKeyError(JoseError):
    """Key material is unusable: unparsable, wrong type or size, or public where private is needed."""


class JweDecryptionError(JoseError):
    """A JWE is malformed or failed authentication (tampered, wrong key, wrong CEK)."""


class JwsVerificationError(JoseError):
    """A JWS is malformed, its signature is invalid, or the key does not fit its algorithm."""


# --------------------------------------------------------------------------------------------------
# Keys

PublicKeyInput = RSAKey | ECKey | str | bytes


# joserfc annotates ``import_key`` with ``typing.Self`` (3.11+), which mypy sees as ``Any`` when
# checking for 3.10: these keep our own types precise.
def _rsa_jwk(native: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> RSAKey:
    return cast(RSAKey, RSAKey.import_key(native))


def _ec_jwk(native: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> ECKey:
    return cast(ECKey, ECKey.import_key(native))


def _wrap_native_public(native: object) -> RSAKey | ECKey:
    if isinstance(native, rsa.RSAPublicKey):
        if native.key_size < _MIN_RSA_BITS:
            raise JoseKeyError(f"RSA public key is {native.key_size} bits; at least {_MIN_RSA_BITS} required")
        return _rsa_jwk(native)
    if isinstance(native, ec.EllipticCurvePublicKey):
        if native.curve.name not in ("secp256r1", "secp384r1", "secp521r1"):
            raise JoseKeyError(f"unsupported EC curve {native.curve.name!r}")
        return _ec_jwk(native)
    raise JoseKeyError(f"unsupported public key type {type(native).__name__}")


def _load_native_public_key(material: str | bytes) -> object:
    """Parse PEM, base64 DER SPKI (line-wrapped or not) or raw DER into a ``cryptography`` key."""
    if isinstance(material, bytes):
        if material[:1] == b"\x30":  # ASN.1 SEQUENCE: raw DER
            try:
                return serialization.load_der_public_key(material)
            except (ValueError, TypeError, UnsupportedAlgorithm):
                raise JoseKeyError("public key DER could not be parsed") from None
        try:
            text = material.decode("ascii")
        except UnicodeDecodeError:
            raise JoseKeyError("public key material is neither PEM, base64 DER nor DER") from None
    elif isinstance(material, str):
        text = material
    else:
        raise JoseKeyError(f"public key material must be str or bytes, not {type(material).__name__}")

    text = text.strip()
    if not text:
        raise JoseKeyError("public key material is empty")
    if "-----BEGIN" in text:
        if "PRIVATE KEY" in text:
            # A private key pasted where Wise's public key belongs: refuse without parsing or echoing.
            raise JoseKeyError("expected a public key but got private key material")
        try:
            return serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm):
            raise JoseKeyError("public key PEM could not be parsed") from None
    compact = "".join(text.split())
    try:
        der = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise JoseKeyError("public key material is neither PEM nor base64 DER") from None
    try:
        return serialization.load_der_public_key(der)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise JoseKeyError(
            "public key DER (from base64) could not be parsed as SubjectPublicKeyInfo"
        ) from None


def load_public_key(material: str | bytes) -> RSAKey | ECKey:
    """Load a public key as Wise hands it out, returning a joserfc key.

    Accepts PEM (``BEGIN PUBLIC KEY`` / ``BEGIN RSA PUBLIC KEY``), bare base64 DER SubjectPublicKeyInfo
    (``keyMaterial.keyMaterial``, the card ``key`` field), or raw DER bytes. RSA keys below 2048 bits
    and curves other than P-256/384/521 are rejected.
    """
    return _wrap_native_public(_load_native_public_key(material))


def _coerce_public_key(key: PublicKeyInput) -> RSAKey | ECKey:
    if isinstance(key, (RSAKey, ECKey)):
        return key
    return load_public_key(key)


class ClientKeyPair:
    """The client's own private key (RSA for JWE responses, EC or RSA for JWS) and its Wise ``kid``.

    ``kid`` is the ``keyId`` (a UUID) registered with ``POST /v1/auth/jose/request/public-keys``.
    ``repr`` shows only ``kid`` and ``kind``; the private key leaves only via
    :meth:`export_private_pem` or :attr:`jwk`.
    """

    __slots__ = ("_key", "_kid", "_kind")

    def __init__(self, key: RSAKey | ECKey, *, kid: str) -> None:
        if not isinstance(key, (RSAKey, ECKey)):
            raise JoseKeyError(f"ClientKeyPair needs an RSAKey or ECKey, not {type(key).__name__}")
        if not key.is_private:
            raise JoseKeyError("ClientKeyPair needs a private key")
        if not isinstance(kid, str) or not kid:
            raise JoseKeyError("ClientKeyPair needs a non-empty kid")
        kind: KeyKind
        if isinstance(key, RSAKey):
            if key.public_key.key_size < _MIN_RSA_BITS:
                raise JoseKeyError(
                    f"RSA key is {key.public_key.key_size} bits; at least {_MIN_RSA_BITS} required"
                )
            kind = "RSA"
        else:
            found = _EC_KINDS.get(key.curve_name)
            if found is None:
                raise JoseKeyError(f"unsupported EC curve {key.curve_name!r}")
            kind = found
        self._key = key
        self._kid = kid
        self._kind: KeyKind = kind

    @classmethod
    def generate(
        cls, kind: KeyKind = "RSA", *, kid: str | None = None, rsa_key_size: int = 2048
    ) -> ClientKeyPair:
        """Create a fresh key pair; ``kid`` defaults to a random UUID (Wise wants UUID key ids)."""
        key_id = kid if kid is not None else str(uuid.uuid4())
        if kind == "RSA":
            if rsa_key_size < _MIN_RSA_BITS:
                raise JoseKeyError(f"RSA keys must be at least {_MIN_RSA_BITS} bits")
            native_rsa = rsa.generate_private_key(public_exponent=65537, key_size=rsa_key_size)
            return cls(_rsa_jwk(native_rsa), kid=key_id)
        curve = _EC_CURVES.get(kind)
        if curve is None:
            raise JoseKeyError(f"unknown key kind {kind!r}; expected one of RSA, EC-P256, EC-P384, EC-P521")
        return cls(_ec_jwk(ec.generate_private_key(curve)), kid=key_id)

    @classmethod
    def from_pem(cls, pem: str | bytes, *, kid: str, password: bytes | None = None) -> ClientKeyPair:
        """Load a PEM private key (PKCS#8 or traditional) registered with Wise under ``kid``."""
        data = pem.encode("utf-8") if isinstance(pem, str) else pem
        native: object = None
        # Fail below, outside any handler, so no chained traceback keeps the PEM alive in its frames.
        with contextlib.suppress(ValueError, TypeError, UnsupportedAlgorithm):
            native = serialization.load_pem_private_key(data, password=password)
        if native is None:
            raise JoseKeyError("private key PEM could not be loaded (malformed, or wrong/missing password)")
        if isinstance(native, rsa.RSAPrivateKey):
            return cls(_rsa_jwk(native), kid=kid)
        if isinstance(native, ec.EllipticCurvePrivateKey):
            return cls(_ec_jwk(native), kid=kid)
        raise JoseKeyError(f"unsupported private key type {type(native).__name__}")

    @property
    def kid(self) -> str:
        """Wise ``keyId`` of this key."""
        return self._kid

    @property
    def kind(self) -> KeyKind:
        """``RSA``, ``EC-P256``, ``EC-P384`` or ``EC-P521``."""
        return self._kind

    @property
    def jwk(self) -> RSAKey | ECKey:
        """The joserfc private key (explicit access to key material)."""
        return self._key

    @property
    def default_jws_alg(self) -> JwsAlg:
        """The natural JWS algorithm for this key (ES* by curve, PS256 for RSA)."""
        return _DEFAULT_JWS_ALG[self._kind]

    def public_pem(self) -> str:
        """``BEGIN PUBLIC KEY`` PEM of the public half."""
        return (
            self._key.public_key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
            .strip()
            + "\n"
        )

    def public_key_material_b64(self) -> str:
        """Base64 DER SubjectPublicKeyInfo: the ``publicKeyMaterial.keyMaterial`` Wise expects."""
        der = self._key.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode("ascii")

    def export_private_pem(self, *, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM of the private key, encrypted when ``password`` is given. Handle as a secret."""
        private = self._key.private_key
        assert private is not None  # guaranteed by __init__
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        return private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def __repr__(self) -> str:
        return f"ClientKeyPair(kid={self._kid!r}, kind={self._kind!r})"

    __str__ = __repr__


PrivateKeyInput = ClientKeyPair | RSAKey | ECKey


def _private_jwk(key: PrivateKeyInput, *, what: str) -> RSAKey | ECKey:
    jwk_key = key.jwk if isinstance(key, ClientKeyPair) else key
    if not isinstance(jwk_key, (RSAKey, ECKey)):
        raise JoseKeyError(f"{what} needs a ClientKeyPair, RSAKey or ECKey, not {type(key).__name__}")
    if not jwk_key.is_private:
        raise JoseKeyError(f"{what} needs a private key")
    return jwk_key


# --------------------------------------------------------------------------------------------------
# Header inspection (before any key is touched)


def _show(value: object) -> str:
    """A short, safe rendering of an attacker-controlled header value for error messages."""
    text = repr(value)
    return text if len(text) <= 64 else text[:61] + "..."


def _b64url_decode(segment: str) -> bytes:
    padded = segment + "=" * (-len(segment) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


def _normalise_compact(compact: str, *, error: type[JoseError], what: str) -> str:
    if not isinstance(compact, str):
        raise error(f"{what} must be a str in compact serialization, not {type(compact).__name__}")
    return compact.strip()


def _read_protected_header(
    compact: str, *, segments: int, error: type[JoseError], what: str
) -> dict[str, Any]:
    parts = compact.split(".")
    if len(parts) != segments:
        raise error(
            f"{what} is not in compact serialization ({segments} segments expected, got {len(parts)})"
        )
    try:
        header = json.loads(_b64url_decode(parts[0]))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise error(f"{what} protected header is not base64url-encoded JSON") from None
    if not isinstance(header, dict):
        raise error(f"{what} protected header is not a JSON object")
    return header


def _check_header(
    header: Mapping[str, Any],
    *,
    what: str,
    algorithms: Collection[str],
    encryptions: Collection[str] | None,
    expected_kid: str | None,
    allowed_params: frozenset[str],
) -> None:
    alg = header.get("alg")
    if alg is None:
        raise JoseAlgorithmError(f"{what} protected header has no 'alg'")
    if not isinstance(alg, str) or alg.strip().lower() == "none":
        raise JoseAlgorithmError(f"{what} with 'alg' {_show(alg)} is never accepted")
    if alg not in algorithms:
        raise JoseAlgorithmError(f"{what} 'alg' {_show(alg)} is not in the allow-list {sorted(algorithms)}")
    if encryptions is not None:
        enc = header.get("enc")
        if not isinstance(enc, str) or enc not in encryptions:
            raise JoseAlgorithmError(
                f"{what} 'enc' {_show(enc)} is not in the allow-list {sorted(encryptions)}"
            )
    if expected_kid is not None:
        kid = header.get("kid")
        if kid != expected_kid:
            raise JoseAlgorithmError(
                f"{what} 'kid' {_show(kid)} does not match the expected {expected_kid!r}"
            )
    unexpected = set(header) - allowed_params
    if unexpected:
        names = sorted(_show(name) for name in unexpected)
        raise JoseAlgorithmError(
            f"{what} protected header carries unexpected parameter(s): {', '.join(names)}"
        )


def _pin_allow_list(requested: Collection[str], supported: frozenset[str], *, what: str) -> list[str]:
    """Validate a caller-supplied allow-list at call time, so a typo cannot widen it."""
    if isinstance(requested, str):
        requested = (requested,)
    chosen = list(dict.fromkeys(requested))
    if not chosen:
        raise JoseAlgorithmError(f"empty {what} allow-list")
    bad = [name for name in chosen if name not in supported]
    if bad:
        raise JoseAlgorithmError(f"{what} {bad} not supported here; choose from {sorted(supported)}")
    return chosen


# --------------------------------------------------------------------------------------------------
# JWE


@attrs.frozen
class JweRequest:
    """An encrypted request body and the CEK it was made with.

    Keep it until the response arrives: ``dir`` responses (PIN / device-fingerprint verify, card data)
    are encrypted with this CEK. ``cek`` is excluded from ``repr``/``str``.
    """

    compact: str
    cek: bytes = attrs.field(repr=False)
    alg: str
    enc: str
    kid: str | None = None

    def decrypt_response(self, compact: str) -> bytes:
        """Decrypt a ``{"alg":"dir","enc":"A256GCM"}`` response made with this request's CEK."""
        return decrypt_jwe_with_cek(compact, self.cek)


class _PresetCekEnc(JWEEncModel):
    """Delegating ``enc`` model whose ``generate_cek`` returns a CEK we chose, so we can keep it."""

    def __init__(self, inner: JWEEncModel, cek: bytes) -> None:
        if len(cek) * 8 != inner.cek_size:
            raise JoseKeyError(f"CEK must be {inner.cek_size} bits for {inner.name}")
        self.name = inner.name
        self.description = inner.description
        self.recommended = inner.recommended
        self.iv_size = inner.iv_size
        self.cek_size = inner.cek_size
        self._inner = inner
        self._cek = cek
        self.cek_used = False

    def generate_cek(self) -> bytes:
        self.cek_used = True
        return self._cek

    def encrypt(self, plaintext: bytes, cek: bytes, iv: bytes, aad: bytes) -> tuple[bytes, bytes]:
        return self._inner.encrypt(plaintext, cek, iv, aad)

    def decrypt(self, ciphertext: bytes, tag: bytes, cek: bytes, iv: bytes, aad: bytes) -> bytes:
        return self._inner.decrypt(ciphertext, tag, cek, iv, aad)

    def __repr__(self) -> str:
        return f"_PresetCekEnc({self.name})"


class _RequestRegistry(JWERegistry):
    """One-shot registry pinned to a single ``alg``/``enc`` pair that injects our CEK.

    Also the one place the RSA1_5 ``SecurityWarning`` is deliberately not raised (see module doc).
    """

    def __init__(self, *, alg: str, enc: str, cek: bytes) -> None:
        super().__init__(algorithms=[alg, enc])
        self._pinned_alg = alg
        self.preset = _PresetCekEnc(super().get_enc(enc), cek)

    def get_enc(self, name: str) -> JWEEncModel:
        model = super().get_enc(name)  # keeps joserfc's allow-list check
        return self.preset if name == self.preset.name else model

    def get_alg(self, name: str) -> JWEAlgModel:
        if name == "RSA1_5" and self._pinned_alg == "RSA1_5":
            if self.allowed is None or name not in self.allowed:  # pragma: no cover - defensive
                raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
            return self.algorithms["alg"][name]
        return super().get_alg(name)


def _decrypt_registry(algorithms: Collection[str]) -> JWERegistry:
    registry = JWERegistry(algorithms=list(algorithms))
    registry.max_ciphertext_length = MAX_JOSE_PAYLOAD_BYTES
    return registry


def encrypt_jwe(
    payload: bytes,
    public_key: RSAKey | str | bytes,
    *,
    alg: JweRequestAlg = "RSA-OAEP-256",
    enc: JweEnc = "A256GCM",
    kid: str | None = None,
) -> JweRequest:
    """Encrypt ``payload`` to Wise's RSA key as a compact JWE, keeping the CEK for the response.

    ``public_key`` is a joserfc ``RSAKey`` or raw material (PEM / base64 DER). ``alg="RSA1_5"`` is
    for the twcard endpoints only, where Wise's guide mandates it; choosing it explicitly suppresses
    joserfc's deprecation warning for this call only.
    """
    if not isinstance(payload, (bytes, bytearray)):
        raise TypeError("payload must be bytes")
    _pin_allow_list((alg,), JWE_REQUEST_ALGORITHMS, what="JWE alg")
    _pin_allow_list((enc,), JWE_CONTENT_ENCRYPTIONS, what="JWE enc")
    key = _coerce_public_key(public_key)
    if not isinstance(key, RSAKey):
        raise JoseKeyError(f"JWE {alg} needs an RSA public key, got {type(key).__name__}")

    protected: dict[str, Any] = {"alg": alg, "enc": enc}
    if kid is not None:
        protected["kid"] = kid
    cek = secrets.token_bytes(_CEK_BYTES)
    registry = _RequestRegistry(alg=alg, enc=enc, cek=cek)
    try:
        compact = jwe.encrypt_compact(protected, bytes(payload), key, registry=registry)
    except (_JoserfcError, ValueError) as exc:
        raise JoseKeyError(f"JWE encryption failed: {type(exc).__name__}") from None
    if not registry.preset.cek_used:
        # joserfc no longer generates the CEK through the enc model: we could not decrypt a ``dir``
        # response, so refuse rather than send a request whose reply we cannot read.
        raise JoseError("joserfc did not use the supplied CEK; this joserfc version is unsupported")
    logger.debug("JWE request encrypted (alg=%s, enc=%s, kid=%s)", alg, enc, kid)
    return JweRequest(compact=compact, cek=cek, alg=alg, enc=enc, kid=kid)


def decrypt_jwe_with_cek(compact: str, cek: bytes) -> bytes:
    """Decrypt a ``{"alg":"dir","enc":"A256GCM"}`` response with the CEK of our request."""
    compact = _normalise_compact(compact, error=JweDecryptionError, what="JWE")
    header = _read_protected_header(compact, segments=5, error=JweDecryptionError, what="JWE")
    _check_header(
        header,
        what="JWE",
        algorithms=("dir",),
        encryptions=JWE_CONTENT_ENCRYPTIONS,
        expected_kid=None,
        allowed_params=_JWE_HEADER_PARAMS,
    )
    if not isinstance(cek, (bytes, bytearray)) or len(cek) != _CEK_BYTES:
        raise JoseKeyError(f"CEK must be {_CEK_BYTES} bytes for A256GCM")
    if compact.split(".")[1]:
        raise JweDecryptionError("'dir' JWE must have an empty encrypted-key segment")
    try:
        key = OctKey.import_key(bytes(cek))
        obj = jwe.decrypt_compact(compact, key, registry=_decrypt_registry(("dir", "A256GCM")))
    except (_JoserfcError, ValueError, TypeError) as exc:
        raise JweDecryptionError(
            f"JWE could not be decrypted with the request CEK ({type(exc).__name__})"
        ) from None
    if obj.plaintext is None:  # pragma: no cover - joserfc always sets it on success
        raise JweDecryptionError("JWE decrypted to nothing")
    logger.debug("JWE response decrypted with request CEK (alg=dir, enc=%s)", header.get("enc"))
    return obj.plaintext


def decrypt_jwe(
    compact: str,
    private_key: ClientKeyPair | RSAKey,
    *,
    expected_kid: str | None,
    algorithms: Collection[JweDecryptAlg] = _DEFAULT_DECRYPT_ALGS,
) -> bytes:
    """Decrypt a response JWE encrypted to the client's RSA key.

    ``expected_kid`` is the ``keyId`` of the client key Wise should have used; ``None`` skips the
    ``kid`` check (the key is still ours, never chosen by the token).
    """
    allowed = _pin_allow_list(algorithms, JWE_DECRYPT_ALGORITHMS, what="JWE alg")
    compact = _normalise_compact(compact, error=JweDecryptionError, what="JWE")
    header = _read_protected_header(compact, segments=5, error=JweDecryptionError, what="JWE")
    _check_header(
        header,
        what="JWE",
        algorithms=allowed,
        encryptions=JWE_CONTENT_ENCRYPTIONS,
        expected_kid=expected_kid,
        allowed_params=_JWE_HEADER_PARAMS,
    )
    key = _private_jwk(private_key, what="decrypt_jwe")
    if not isinstance(key, RSAKey):
        raise JoseKeyError("decrypt_jwe needs an RSA private key")
    try:
        obj = jwe.decrypt_compact(
            compact, key, registry=_decrypt_registry([*allowed, *JWE_CONTENT_ENCRYPTIONS])
        )
    except (_JoserfcError, ValueError, TypeError) as exc:
        raise JweDecryptionError(f"JWE could not be decrypted ({type(exc).__name__})") from None
    if obj.plaintext is None:  # pragma: no cover - joserfc always sets it on success
        raise JweDecryptionError("JWE decrypted to nothing")
    logger.debug(
        "JWE response decrypted (alg=%s, enc=%s, kid=%s)", header["alg"], header["enc"], header.get("kid")
    )
    return obj.plaintext


# --------------------------------------------------------------------------------------------------
# JWS


def _jws_registry(algorithms: Collection[str]) -> JWSRegistry:
    registry = JWSRegistry(header_registry=dict(_WISE_JWS_HEADER_REGISTRY), algorithms=list(algorithms))
    registry.max_payload_length = MAX_JOSE_PAYLOAD_BYTES
    return registry


def sign_jws(
    payload: bytes,
    private_key: PrivateKeyInput,
    *,
    alg: JwsAlg,
    kid: str | None = None,
    url: str,
) -> str:
    """Sign ``payload`` as a compact JWS with protected header ``{alg, kid, url}``.

    ``url`` is the request path Wise binds the signature to. ``kid`` defaults to the
    :class:`ClientKeyPair`'s own.
    """
    if not isinstance(payload, (bytes, bytearray)):
        raise TypeError("payload must be bytes")
    _pin_allow_list((alg,), JWS_ALGORITHMS, what="JWS alg")
    key = _private_jwk(private_key, what="sign_jws")
    key_id = kid if kid is not None else (private_key.kid if isinstance(private_key, ClientKeyPair) else None)
    if not key_id:
        raise JoseKeyError("sign_jws needs a kid (the keyId registered with Wise)")
    if not isinstance(url, str) or not url:
        raise ValueError("sign_jws needs the request path as url")
    protected = {"alg": alg, "kid": key_id, "url": url}
    try:
        compact = jws.serialize_compact(protected, bytes(payload), key, registry=_jws_registry((alg,)))
    except (_JoserfcError, ValueError, TypeError) as exc:
        raise JoseKeyError(
            f"JWS {alg} signing failed: key does not fit the algorithm ({type(exc).__name__})"
        ) from None
    logger.debug("JWS signed (alg=%s, kid=%s, url=%s)", alg, key_id, url)
    return compact


def verify_jws(
    compact: str,
    public_key: PublicKeyInput,
    *,
    algorithms: Collection[JwsAlg],
    expected_kid: str | None = None,
) -> bytes:
    """Verify a compact JWS from Wise against ``public_key`` and return the payload.

    ``algorithms`` is the allow-list (normally the single algorithm of Wise's PAYLOAD_SIGNING key).
    Wise's response headers carry no ``kid``, so ``expected_kid`` is optional; when given, it must match.
    """
    allowed = _pin_allow_list(algorithms, JWS_ALGORITHMS, what="JWS alg")
    compact = _normalise_compact(compact, error=JwsVerificationError, what="JWS")
    header = _read_protected_header(compact, segments=3, error=JwsVerificationError, what="JWS")
    _check_header(
        header,
        what="JWS",
        algorithms=allowed,
        encryptions=None,
        expected_kid=expected_kid,
        allowed_params=_JWS_HEADER_PARAMS,
    )
    key = _coerce_public_key(public_key)
    try:
        obj = jws.deserialize_compact(compact, key, registry=_jws_registry(allowed))
    except (_JoserfcError, ValueError, TypeError) as exc:
        raise JwsVerificationError(f"JWS signature verification failed ({type(exc).__name__})") from None
    logger.debug("JWS verified (alg=%s, kid=%s)", header["alg"], header.get("kid"))
    return obj.payload


def sign_then_encrypt(
    payload: bytes,
    *,
    signing_key: PrivateKeyInput,
    jws_alg: JwsAlg,
    url: str,
    encryption_key: RSAKey | str | bytes,
    kid: str | None = None,
    jwe_alg: JweRequestAlg = "RSA-OAEP-256",
) -> JweRequest:
    """``X-TW-JOSE-Method: jws+jwe`` request body: sign with our key, then encrypt to Wise's."""
    signed = sign_jws(payload, signing_key, alg=jws_alg, kid=kid, url=url)
    return encrypt_jwe(signed.encode("ascii"), encryption_key, alg=jwe_alg)


def decrypt_then_verify(
    compact: str,
    *,
    verification_key: PublicKeyInput,
    jws_algorithms: Collection[JwsAlg],
    decryption_key: ClientKeyPair | RSAKey | None = None,
    expected_kid: str | None = None,
    jwe_request: JweRequest | None = None,
    jwe_algorithms: Collection[JweDecryptAlg] = _DEFAULT_DECRYPT_ALGS,
    expected_jws_kid: str | None = None,
) -> bytes:
    """``jws+jwe`` response: decrypt (with our key, or the request's CEK for ``dir``), then verify.

    Exactly one of ``decryption_key`` and ``jwe_request`` says how the response was encrypted; the
    token's own header never decides.
    """
    if (decryption_key is None) == (jwe_request is None):
        raise TypeError("pass exactly one of decryption_key or jwe_request")
    if jwe_request is not None:
        inner = jwe_request.decrypt_response(compact)
    else:
        assert decryption_key is not None
        inner = decrypt_jwe(compact, decryption_key, expected_kid=expected_kid, algorithms=jwe_algorithms)
    try:
        inner_text = inner.decode("ascii").strip()
    except UnicodeDecodeError:
        inner_text = ""
    if not inner_text:
        raise JwsVerificationError("decrypted jws+jwe payload is not a compact JWS")
    return verify_jws(inner_text, verification_key, algorithms=jws_algorithms, expected_kid=expected_jws_kid)
