"""FakeJose: Wise's half of JOSE for FakeWise — its keys, and what it does with JWE/JWS bodies.

Attach it with ``FakeJose.attach(fake)`` (routes that need it attach one on first use). From then on:

* ``application/jose+json`` request bodies are decrypted with the fake's PAYLOAD_ENCRYPTION key
  (``RSA-OAEP-256``/``A256GCM`` only; anything else is Wise's generic 500) and, for ``jws``/``jws+jwe``,
  verified against the client's uploaded PAYLOAD_SIGNING key (``kid``, ``alg`` and ``url`` must fit);
* responses are encrypted the way Wise does: ``dir`` with the request's CEK for the direct-encryption
  endpoints (PIN / device-fingerprint verify, the direct playground), otherwise RSA-OAEP-256 to the
  client's latest uploaded PAYLOAD_ENCRYPTION key with its ``kid``; signed (``{"alg","version"}``) with
  the fake's PAYLOAD_SIGNING key for ``jws``. ``response_mode`` forces ``dir``, ``kid`` or ``plain``;
* the twcard card-data endpoints decrypt ``encryptedPayload`` with the card key (RSA1_5 or
  RSA-OAEP-256) and answer as ``card_response_form`` says: a ``dir`` JWE, the same as a JSON string,
  or plain JSON.

The cryptography is written against ``cryptography`` directly, not joserfc, so FakeWise checks the SDK
rather than agreeing with it by construction. Keys are generated on first use unless passed in (pass
module-scoped keys to keep a test suite fast). ``response_filter`` lets a test tamper with every compact
token the fake sends.
"""

from __future__ import annotations

import base64
import binascii
import collections
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._http import FakeRequest, FakeResponse, Rejection, errors_response, json_response, spring_error
from ._keys import seeded_ec_key, seeded_rsa_key

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = [
    "DIRECT_ENCRYPTION_OPERATIONS",
    "FakeCard",
    "FakeCardOrder",
    "FakeJose",
    "RegisteredClientKey",
    "jwe_decrypt_rsa",
    "jwe_encrypt",
    "jws_sign",
    "jws_verify",
]

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

DIRECT_ENCRYPTION_OPERATIONS: Final = frozenset(
    {
        "scaPinVerify",
        "ottPinVerify",
        "scaDeviceFingerprintVerify",
        "ottDeviceFingerprintVerify",
        "josePlaygroundJweDirectEncryption",
    }
)
JOSE_CONTENT_TYPE: Final = "application/jose+json"
CARD_STATUSES_WITH_SECRETS: Final = frozenset({"ACTIVE", "FROZEN"})
_HASHES: Final[dict[str, Callable[[], hashes.HashAlgorithm]]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_CURVES: Final[dict[str, str]] = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_REMEMBERED_EXCHANGES: Final = 256


# --------------------------------------------------------------------------------------------------
# Compact JOSE, by hand


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64u_decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _header_b64(header: dict[str, Any]) -> str:
    return _b64u(json.dumps(header, separators=(",", ":")).encode())


def _hash_for(alg: str) -> hashes.HashAlgorithm:
    return _HASHES[alg[2:]]()


def jwe_encrypt(
    header: dict[str, Any], plaintext: bytes, cek: bytes, *, public_key: rsa.RSAPublicKey | None = None
) -> str:
    """Compact JWE with A256GCM; the CEK is wrapped to ``public_key`` per ``alg`` unless ``dir``."""
    alg = header["alg"]
    if alg == "dir":
        encrypted_key = b""
    elif public_key is None:
        raise ValueError(f"{alg} needs a public key")
    elif alg == "RSA-OAEP-256":
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        encrypted_key = public_key.encrypt(cek, oaep)
    elif alg == "RSA1_5":
        encrypted_key = public_key.encrypt(cek, padding.PKCS1v15())
    else:
        raise ValueError(f"unsupported alg {alg!r}")
    protected = _header_b64(header)
    iv = os.urandom(12)
    sealed = AESGCM(cek).encrypt(iv, plaintext, protected.encode("ascii"))
    return ".".join((protected, _b64u(encrypted_key), _b64u(iv), _b64u(sealed[:-16]), _b64u(sealed[-16:])))


def _jwe_parts(compact: str) -> tuple[dict[str, Any], str, bytes, bytes, bytes, bytes]:
    parts = compact.strip().split(".")
    if len(parts) != 5:
        raise ValueError("not a compact JWE")
    header = json.loads(_b64u_decode(parts[0]))
    if not isinstance(header, dict):
        raise ValueError("JWE header is not an object")
    ek, iv, ct, tag = (_b64u_decode(p) for p in parts[1:])
    return header, parts[0], ek, iv, ct, tag


def _open(protected: str, iv: bytes, ct: bytes, tag: bytes, cek: bytes) -> bytes:
    return AESGCM(cek).decrypt(iv, ct + tag, protected.encode("ascii"))


def jwe_decrypt_rsa(
    compact: str, private_key: rsa.RSAPrivateKey, *, algorithms: frozenset[str] | set[str]
) -> tuple[bytes, bytes, dict[str, Any]]:
    """(plaintext, CEK, header) of a JWE whose CEK is RSA-wrapped; raises ``ValueError`` on any failure."""
    try:
        header, protected, ek, iv, ct, tag = _jwe_parts(compact)
    except (ValueError, binascii.Error) as exc:
        raise ValueError(f"malformed JWE: {exc}") from None
    alg, enc = header.get("alg"), header.get("enc")
    if alg not in algorithms or enc != "A256GCM":
        raise ValueError(f"JWE alg/enc {alg!r}/{enc!r} not accepted")
    try:
        if alg == "RSA1_5":
            cek = private_key.decrypt(ek, padding.PKCS1v15())
        else:
            oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
            cek = private_key.decrypt(ek, oaep)
        if len(cek) != 32:
            raise ValueError("CEK is not 256 bits")
        return _open(protected, iv, ct, tag, cek), cek, header
    except (ValueError, InvalidTag) as exc:
        raise ValueError(f"JWE does not decrypt: {type(exc).__name__}") from None


def jwe_decrypt_dir(compact: str, cek: bytes) -> bytes:
    """Plaintext of a ``dir``/A256GCM JWE (what a client does with Wise's direct-encryption answers)."""
    header, protected, ek, iv, ct, tag = _jwe_parts(compact)
    if header.get("alg") != "dir" or header.get("enc") != "A256GCM" or ek:
        raise ValueError("not a dir/A256GCM JWE")
    return _open(protected, iv, ct, tag, cek)


def jws_sign(header: dict[str, Any], payload: bytes, private_key: PrivateKey) -> str:
    alg = header["alg"]
    signing_input = f"{_header_b64(header)}.{_b64u(payload)}"
    digest = _hash_for(alg)
    if alg.startswith("ES"):
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{alg} needs an EC key")
        r, s = decode_dss_signature(private_key.sign(signing_input.encode(), ec.ECDSA(digest)))
        size = (private_key.curve.key_size + 7) // 8
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    else:
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError(f"{alg} needs an RSA key")
        pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        signature = private_key.sign(signing_input.encode(), pss, digest)
    return f"{signing_input}.{_b64u(signature)}"


def jws_verify(compact: str, public_key: PublicKey, *, algorithm: str) -> tuple[dict[str, Any], bytes]:
    """(header, payload) of a JWS signed with ``algorithm`` by ``public_key``; ``ValueError`` otherwise."""
    try:
        head, body, sig = compact.strip().split(".")
        header = json.loads(_b64u_decode(head))
        payload, signature = _b64u_decode(body), _b64u_decode(sig)
    except (ValueError, binascii.Error) as exc:
        raise ValueError(f"malformed JWS: {type(exc).__name__}") from None
    if not isinstance(header, dict) or header.get("alg") != algorithm:
        raise ValueError("JWS alg does not match the key's algorithm")
    digest = _hash_for(algorithm)
    signing_input = f"{head}.{body}".encode()
    try:
        if algorithm.startswith("ES"):
            if not isinstance(public_key, ec.EllipticCurvePublicKey):
                raise ValueError("ES* needs an EC key")
            size = (public_key.curve.key_size + 7) // 8
            if len(signature) != 2 * size:
                raise ValueError("bad ECDSA signature length")
            der = encode_dss_signature(
                int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            )
            public_key.verify(der, signing_input, ec.ECDSA(digest))
        else:
            if not isinstance(public_key, rsa.RSAPublicKey):
                raise ValueError("PS* needs an RSA key")
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            public_key.verify(signature, signing_input, pss, digest)
    except InvalidSignature:
        raise ValueError("JWS signature does not verify") from None
    return header, payload


def _spki_b64(key: PublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")


def _jws_algorithm_of(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "PS256"
    return _CURVES[key.curve.name]


# --------------------------------------------------------------------------------------------------
# State


@dataclass
class RegisteredClientKey:
    """A key the client uploaded with ``joseRequestPublicKeysCreate``."""

    key_id: str
    scope: str
    algorithm: str
    """Wise's spelling: ``RSA_OAEP_256`` or a JWS algorithm."""
    public_key: PublicKey
    valid_from: str | None = None
    valid_till: str | None = None
    client_id: str | None = None


@dataclass
class FakeCard:
    """A card with secrets; ``status`` must be ACTIVE or FROZEN for them to be revealed."""

    token: str
    profile_id: int
    user_id: int
    pan: str
    cvv: str
    expiry_date: str
    cardholder_name: str
    pin: str
    status: str = "ACTIVE"

    def __repr__(self) -> str:
        return f"FakeCard(token={self.token!r}, last4={self.pan[-4:]!r}, status={self.status!r})"


@dataclass
class FakeCardOrder:
    order_id: str
    profile_id: int
    user_id: int
    preset_pin: str | None = None

    def __repr__(self) -> str:
        return f"FakeCardOrder(order_id={self.order_id!r}, pin_set={self.preset_pin is not None})"


@dataclass
class _Exchange:
    method: str
    cek: bytes | None


class FakeJose:
    """Wise's JOSE keys and behaviour for one :class:`FakeWise` (implements ``JoseHook``)."""

    def __init__(
        self,
        fake: FakeWise,
        *,
        encryption_key: rsa.RSAPrivateKey | None = None,
        signing_key: PrivateKey | None = None,
        card_key: rsa.RSAPrivateKey | None = None,
    ) -> None:
        self._fake = fake
        self._encryption_key = encryption_key
        self._signing_key = signing_key
        self._card_key = card_key
        self.encryption_key_version = 1
        self.signing_key_version = 1
        self.card_key_version = 1
        self.encryption_key_id = fake._new_secret()
        self.signing_key_id = fake._new_secret()
        self.response_mode: Literal["auto", "dir", "kid", "plain"] = "auto"
        """``auto``: ``dir`` for direct-encryption endpoints, else to the client's key (``kid``)."""
        self.card_response_form: Literal["jwe", "jwe-string", "plain"] = "jwe"
        """How twcard endpoints answer: a ``dir`` JWE (card guide), the JWE as a JSON string, or
        plain JSON (what the spec shows)."""
        self.card_algorithms: set[str] = {"RSA1_5", "RSA-OAEP-256"}
        """Key-wrap algorithms accepted in ``encryptedPayload``."""
        self.response_filter: Callable[[str], str] | None = None
        """Applied to every compact token the fake sends (tests use it to tamper)."""
        self.client_keys: dict[str, RegisteredClientKey] = {}
        self.cards: dict[str, FakeCard] = {}
        self.card_orders: dict[str, FakeCardOrder] = {}
        self._exchanges: collections.OrderedDict[int, _Exchange] = collections.OrderedDict()
        self._order_ids = iter(range(9_000_001, 10**9))

    def __repr__(self) -> str:
        return (
            f"FakeJose(response_mode={self.response_mode!r}, card_response_form={self.card_response_form!r}, "
            f"client_keys={sorted(self.client_keys)}, cards={len(self.cards)})"
        )

    # ------------------------------------------------------------------ attaching

    @classmethod
    def attach(cls, fake: FakeWise, **keys: Any) -> FakeJose:
        """Make ``fake`` speak JOSE with a new :class:`FakeJose` (replacing any other hook)."""
        with fake._lock:
            jose = cls(fake, **keys)
            fake.jose = jose
            return jose

    @classmethod
    def of(cls, fake: FakeWise) -> FakeJose:
        """The fake's :class:`FakeJose`, attaching one if it has none."""
        with fake._lock:
            if isinstance(fake.jose, FakeJose):
                return fake.jose
            if fake.jose is not None:
                raise RuntimeError("fake.jose holds another JoseHook; FakeJose cannot serve these routes")
            return cls.attach(fake)

    # ------------------------------------------------------------------ keys

    @property
    def encryption_key(self) -> rsa.RSAPrivateKey:
        """Wise's PAYLOAD_ENCRYPTION key (private half: the fake decrypts with it)."""
        if self._encryption_key is None:
            seed = self._fake.seed
            self._encryption_key = (
                rsa.generate_private_key(public_exponent=65537, key_size=2048)
                if seed is None
                else seeded_rsa_key(seed, "PAYLOAD_ENCRYPTION")
            )
        return self._encryption_key

    @property
    def signing_key(self) -> PrivateKey:
        """Wise's PAYLOAD_SIGNING key (EC P-521 / ES512 unless another was passed)."""
        if self._signing_key is None:
            seed = self._fake.seed
            self._signing_key = (
                ec.generate_private_key(ec.SECP521R1())
                if seed is None
                else seeded_ec_key(seed, "PAYLOAD_SIGNING")
            )
        return self._signing_key

    @property
    def signing_algorithm(self) -> str:
        return _jws_algorithm_of(self.signing_key)

    @property
    def card_key(self) -> rsa.RSAPrivateKey:
        """The twcard client-side-encryption key."""
        if self._card_key is None:
            seed = self._fake.seed
            self._card_key = (
                rsa.generate_private_key(public_exponent=65537, key_size=2048)
                if seed is None
                else seeded_rsa_key(seed, "CARD")
            )
        return self._card_key

    def public_key_b64(self, scope: str) -> str:
        """Base64 DER SPKI of the fake's ``PAYLOAD_ENCRYPTION``/``PAYLOAD_SIGNING``/``CARD`` key."""
        # Only the asked-for key: a seeded fake derives each one on first use, which takes a while.
        keys: dict[str, Callable[[], PrivateKey]] = {
            "PAYLOAD_ENCRYPTION": lambda: self.encryption_key,
            "PAYLOAD_SIGNING": lambda: self.signing_key,
            "CARD": lambda: self.card_key,
        }
        return _spki_b64(keys[scope]().public_key())

    def rotate_encryption_key(self, key: rsa.RSAPrivateKey | None = None) -> None:
        """Replace Wise's encryption key: requests made with the old one now get Wise's bare 500."""
        with self._fake._lock:
            self._encryption_key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.encryption_key_version += 1
            self.encryption_key_id = self._fake._new_secret()

    def rotate_signing_key(self, key: PrivateKey | None = None) -> None:
        with self._fake._lock:
            self._signing_key = key or ec.generate_private_key(ec.SECP521R1())
            self.signing_key_version += 1
            self.signing_key_id = self._fake._new_secret()

    def rotate_card_key(self, key: rsa.RSAPrivateKey | None = None) -> None:
        """New card key and version: payloads for the old version are refused with a 400."""
        with self._fake._lock:
            self._card_key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.card_key_version += 1

    def register_client_key(
        self,
        public_key: PublicKey | str | bytes,
        *,
        key_id: str,
        scope: Literal["PAYLOAD_ENCRYPTION", "PAYLOAD_SIGNING"],
        algorithm: str | None = None,
        client_id: str | None = None,
    ) -> RegisteredClientKey:
        """What ``joseRequestPublicKeysCreate`` does, without a request (PEM or base64 DER accepted)."""
        key = _load_public(public_key)
        wire = algorithm or ("RSA_OAEP_256" if scope == "PAYLOAD_ENCRYPTION" else _jws_algorithm_of(key))
        if scope == "PAYLOAD_ENCRYPTION" and (
            wire != "RSA_OAEP_256" or not isinstance(key, rsa.RSAPublicKey)
        ):
            raise ValueError("PAYLOAD_ENCRYPTION keys are RSA with algorithm RSA_OAEP_256")
        if scope == "PAYLOAD_SIGNING":
            fits = (
                wire.startswith("PS") if isinstance(key, rsa.RSAPublicKey) else wire == _jws_algorithm_of(key)
            )
            if not fits:
                raise ValueError(f"a {type(key).__name__} cannot make {wire} signatures")
        registered = RegisteredClientKey(key_id, scope, wire, key, client_id=client_id)
        with self._fake._lock:
            self.client_keys.pop(key_id, None)
            self.client_keys[key_id] = registered  # newest last: responses use the latest key
        return registered

    def response_key(self) -> RegisteredClientKey | None:
        """The client key responses are encrypted to: the latest PAYLOAD_ENCRYPTION upload."""
        keys = [k for k in self.client_keys.values() if k.scope == "PAYLOAD_ENCRYPTION"]
        return keys[-1] if keys else None

    # ------------------------------------------------------------------ JoseHook

    def decode_request(self, request: FakeRequest) -> bytes:
        method = self.method_of(request)
        try:
            text = request.body.strip().decode("ascii")
        except UnicodeDecodeError:
            raise self._failure(request, "body is not a compact JOSE token") from None
        cek: bytes | None = None
        if method == "jws":
            plaintext = self._verify_client_jws(request, text)
        elif method in ("jwe", "jws+jwe"):
            try:
                plaintext, cek, _ = jwe_decrypt_rsa(
                    text, self.encryption_key, algorithms=frozenset({"RSA-OAEP-256"})
                )
            except ValueError:
                raise self._failure(request, "JWE request did not decrypt") from None
            self._fake.counters["jose:decrypted"] += 1
            if method == "jws+jwe":
                plaintext = self._verify_client_jws(request, plaintext.decode("ascii", "replace"))
        else:
            raise Rejection(errors_response(400, "NOT_VALID", f"Unknown X-TW-JOSE-Method {method!r}."))
        self._exchanges[id(request)] = _Exchange(method, cek)
        while len(self._exchanges) > _REMEMBERED_EXCHANGES:
            self._exchanges.popitem(last=False)
        return plaintext

    def encode_response(self, request: FakeRequest, response: FakeResponse) -> FakeResponse:
        exchange = self._exchanges.pop(id(request), None)
        method = exchange.method if exchange is not None else self.method_of(request)
        if self.response_mode == "plain" or not response.body:
            return response
        payload = response.body
        if method in ("jws", "jws+jwe"):
            header = {"version": self.signing_key_version, "alg": self.signing_algorithm}
            payload = jws_sign(header, payload, self.signing_key).encode("ascii")
            self._fake.counters["jose:signed"] += 1
        if method == "jws":
            return self._jose_response(response, payload.decode("ascii"))
        mode = self.response_mode
        if mode == "auto":
            matched, _, _ = self._fake.router.match(request.method, request.path)
            direct = matched is not None and matched.operation_id in DIRECT_ENCRYPTION_OPERATIONS
            mode = "dir" if direct else "kid"
        if mode == "dir" and exchange is not None and exchange.cek is not None:
            compact = jwe_encrypt({"alg": "dir", "enc": "A256GCM"}, payload, exchange.cek)
            self._fake.counters["jose:dir"] += 1
            return self._jose_response(response, compact)
        client_key = self.response_key()
        if client_key is None or not isinstance(client_key.public_key, rsa.RSAPublicKey):
            return spring_error(self._fake.clock.now(), 500, request.path, "No client encryption key")
        header = {"kid": client_key.key_id, "enc": "A256GCM", "alg": "RSA-OAEP-256"}
        compact = jwe_encrypt(header, payload, os.urandom(32), public_key=client_key.public_key)
        self._fake.counters["jose:kid"] += 1
        return self._jose_response(response, compact)

    @staticmethod
    def method_of(request: FakeRequest) -> str:
        return (request.headers.get("x-tw-jose-method") or "jwe").strip().lower()

    def _jose_response(self, response: FakeResponse, compact: str) -> FakeResponse:
        if self.response_filter is not None:
            compact = self.response_filter(compact)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
        headers["content-type"] = JOSE_CONTENT_TYPE
        return FakeResponse(response.status, compact.encode("ascii"), headers)

    def _verify_client_jws(self, request: FakeRequest, compact: str) -> bytes:
        try:
            header = json.loads(_b64u_decode(compact.split(".", 1)[0]))
        except (ValueError, binascii.Error):
            raise self._failure(request, "JWS header unreadable") from None
        key = self.client_keys.get(header.get("kid", "")) if isinstance(header, dict) else None
        if key is None or key.scope != "PAYLOAD_SIGNING":
            raise self._failure(request, "JWS kid is not a registered signing key")
        if header.get("url") != request.path:
            raise self._failure(request, "JWS url does not match the request path")
        try:
            _, payload = jws_verify(compact, key.public_key, algorithm=key.algorithm)
        except ValueError:
            raise self._failure(request, "JWS signature rejected") from None
        self._fake.counters["jose:verified"] += 1
        return payload

    def _failure(self, request: FakeRequest, reason: str) -> Rejection:
        """Wise reports every JOSE failure as a bare 500; the reason is only counted, for tests."""
        self._fake.counters["jose:failures"] += 1
        self._fake.counters[f"jose:failure:{reason}"] += 1
        return Rejection(spring_error(self._fake.clock.now(), 500, request.path, "Internal Server Error"))

    # ------------------------------------------------------------------ cards

    def add_card(
        self,
        *,
        profile_id: int | None = None,
        user_id: int | None = None,
        pan: str = "4396910000012345",
        cvv: str = "739",
        expiry_date: str = "10/31",
        cardholder_name: str = "Ada Lovelace",
        pin: str = "8264",
        status: str = "ACTIVE",
        token: str | None = None,
    ) -> FakeCard:
        """A card whose details and PIN the twcard endpoints reveal; returns it (``.token``)."""
        with self._fake._lock:
            card = FakeCard(
                token=token or self._fake._new_secret(),
                profile_id=profile_id or self._fake.personal_profile_id,
                user_id=user_id or self._fake.user_id,
                pan=pan,
                cvv=cvv,
                expiry_date=expiry_date,
                cardholder_name=cardholder_name,
                pin=pin,
                status=status,
            )
            self.cards[card.token] = card
            return card

    def add_card_order(self, *, profile_id: int | None = None, user_id: int | None = None) -> FakeCardOrder:
        """A card order awaiting a preset PIN."""
        with self._fake._lock:
            order = FakeCardOrder(
                order_id=str(next(self._order_ids)),
                profile_id=profile_id or self._fake.personal_profile_id,
                user_id=user_id or self._fake.user_id,
            )
            self.card_orders[order.order_id] = order
            return order

    def open_card_payload(self, request: FakeRequest) -> tuple[dict[str, Any], bytes]:
        """Decrypt ``{"keyVersion", "encryptedPayload"}``: (plaintext JSON object, CEK)."""
        body = request.json_object()
        version, compact = body.get("keyVersion"), body.get("encryptedPayload")
        if not isinstance(compact, str) or not isinstance(version, int) or isinstance(version, bool):
            raise Rejection(
                errors_response(400, "NOT_VALID", "keyVersion and encryptedPayload are required.")
            )
        if version != self.card_key_version:
            self._fake.counters["card:stale_key"] += 1
            raise Rejection(errors_response(400, "INVALID_KEY_VERSION", "Unknown encryption key version."))
        try:
            plaintext, cek, header = jwe_decrypt_rsa(compact, self.card_key, algorithms=self.card_algorithms)
            data = json.loads(plaintext)
        except ValueError:
            self._fake.counters["card:undecryptable"] += 1
            raise Rejection(
                errors_response(400, "INVALID_PAYLOAD", "Encrypted payload could not be read.")
            ) from None
        if not isinstance(data, dict):
            raise Rejection(errors_response(400, "INVALID_PAYLOAD", "Encrypted payload is not an object."))
        self._fake.counters[f"card_alg:{header['alg']}"] += 1
        return data, cek

    def card_response(self, payload: dict[str, Any], cek: bytes) -> FakeResponse:
        """Answer in :attr:`card_response_form`."""
        plain = json_response(200, payload)
        if self.card_response_form == "plain":
            return plain
        compact = jwe_encrypt({"alg": "dir", "enc": "A256GCM"}, plain.body, cek)
        if self.response_filter is not None:
            compact = self.response_filter(compact)
        if self.card_response_form == "jwe-string":
            return json_response(200, compact)
        return FakeResponse(200, compact.encode("ascii"), {"content-type": JOSE_CONTENT_TYPE})


def _load_public(material: PublicKey | str | bytes) -> PublicKey:
    if isinstance(material, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        return material
    data = material.encode("ascii") if isinstance(material, str) else material
    if b"-----BEGIN" in data:
        key = serialization.load_pem_public_key(data)
    else:
        key = serialization.load_der_public_key(base64.b64decode(b"".join(data.split()), validate=True))
    if not isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        raise ValueError("client keys must be RSA or EC")
    return key
