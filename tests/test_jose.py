"""JOSE primitives: round trips, allow-list enforcement before decryption, typed failures, no leaks."""

from __future__ import annotations

import base64
import json
import logging
import warnings
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc import jwe, jws
from joserfc.jwe import JWERegistry
from joserfc.jwk import OctKey, RSAKey
from joserfc.registry import HeaderParameter

from wise_async import _jose
from wise_async._exceptions import InvalidRequestError, JoseError, WiseError
from wise_async._jose import (
    ClientKeyPair,
    JoseAlgorithmError,
    JoseKeyError,
    JweDecryptionError,
    JweRequest,
    JwsVerificationError,
    decrypt_jwe,
    decrypt_jwe_with_cek,
    decrypt_then_verify,
    encrypt_jwe,
    load_public_key,
    sign_jws,
    sign_then_encrypt,
    verify_jws,
)
from wise_async.cards import CardPin, SensitiveCardDetails, build_card_encrypted_payload, parse_card_response

PAN = "4396910000012345"
CVV = "739"
PIN = "8264"
CARDHOLDER = "Jane Q Cardholder"

# --------------------------------------------------------------------------------------------------
# helpers


@pytest.fixture(scope="module")
def wise_key() -> ClientKeyPair:
    """Stands in for Wise's RSA key (we hold the private half so tests can look inside)."""
    return ClientKeyPair.generate("RSA", kid="wise-enc")


@pytest.fixture(scope="module")
def client_key() -> ClientKeyPair:
    return ClientKeyPair.generate("RSA", kid="11111111-2222-3333-4444-555555555555")


@pytest.fixture(scope="module")
def other_rsa_key() -> ClientKeyPair:
    return ClientKeyPair.generate("RSA", kid="11111111-2222-3333-4444-555555555555")


@pytest.fixture(scope="module")
def signing_key() -> ClientKeyPair:
    return ClientKeyPair.generate("EC-P521", kid="sig-key")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def header_of(compact: str) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(b64url_decode(compact.split(".")[0]))
    return header


def with_header(compact: str, header: dict[str, Any]) -> str:
    """Replace the protected header (breaking authentication, which must not matter: checked first)."""
    parts = compact.split(".")
    parts[0] = b64url(json.dumps(header).encode())
    return ".".join(parts)


def flip(segment: str) -> str:
    """Change one character of a base64url segment (first char: always changes decoded bytes)."""
    return ("B" if segment[0] != "B" else "C") + segment[1:]


def tamper(compact: str, index: int) -> str:
    parts = compact.split(".")
    parts[index] = flip(parts[index])
    return ".".join(parts)


def unwrap_cek(wise_key: ClientKeyPair, request: JweRequest) -> bytes:
    private = wise_key.jwk.private_key
    assert isinstance(private, rsa.RSAPrivateKey)
    encrypted_key = b64url_decode(request.compact.split(".")[1])
    if request.alg == "RSA1_5":
        return private.decrypt(encrypted_key, padding.PKCS1v15())
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return private.decrypt(encrypted_key, oaep)


def dir_response(cek: bytes, payload: bytes, header: dict[str, Any] | None = None) -> str:
    """What Wise sends for direct-encryption endpoints: A256GCM under the request's CEK."""
    protected = header or {"alg": "dir", "enc": "A256GCM"}
    return jwe.encrypt_compact(protected, payload, OctKey.import_key(cek), algorithms=["dir", "A256GCM"])


def response_to(
    key: ClientKeyPair, payload: bytes, *, kid: str | None = None, alg: str = "RSA-OAEP-256"
) -> str:
    """What Wise sends for ordinary JWE endpoints: encrypted to the client's uploaded key."""
    protected: dict[str, Any] = {"alg": alg, "enc": "A256GCM"}
    if kid is not None:
        protected["kid"] = kid
    public = RSAKey.import_key(key.public_pem())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwe.encrypt_compact(protected, payload, public, algorithms=[alg, "A256GCM"])


# --------------------------------------------------------------------------------------------------
# exceptions


def test_exception_tree() -> None:
    for cls in (JoseAlgorithmError, JoseKeyError, JweDecryptionError, JwsVerificationError):
        assert issubclass(cls, JoseError)
        assert issubclass(cls, WiseError)


# --------------------------------------------------------------------------------------------------
# keys


def test_load_public_key_accepts_every_form_wise_uses(wise_key: ClientKeyPair) -> None:
    b64 = wise_key.public_key_material_b64()
    der = base64.b64decode(b64)
    pem = wise_key.public_pem()
    wrapped = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
    expected = RSAKey.import_key(pem).as_dict()
    for material in (b64, b64.encode(), pem, pem.encode(), der, wrapped, f"  {b64}\n"):
        key = load_public_key(material)
        assert isinstance(key, RSAKey)
        assert key.as_dict() == expected


def test_load_public_key_accepts_ec(signing_key: ClientKeyPair) -> None:
    key = load_public_key(signing_key.public_key_material_b64())
    assert key.as_dict()["crv"] == "P-521"


@pytest.mark.parametrize(
    "material",
    [
        "",
        "not base64 !!",
        "aGVsbG8gd29ybGQ=",
        b"\xff\xfe",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
    ],
)
def test_load_public_key_rejects_garbage(material: str | bytes) -> None:
    with pytest.raises(JoseKeyError):
        load_public_key(material)


def test_load_public_key_refuses_private_material_without_echoing_it(client_key: ClientKeyPair) -> None:
    pem = client_key.export_private_pem().decode()
    with pytest.raises(JoseKeyError) as info:
        load_public_key(pem)
    assert "PRIVATE KEY-----" not in str(info.value)
    assert pem.splitlines()[1] not in str(info.value)


def test_load_public_key_rejects_small_rsa() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    der = small.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(JoseKeyError, match="2048"):
        load_public_key(base64.b64encode(der).decode())


@pytest.mark.parametrize("kind", ["RSA", "EC-P256", "EC-P384", "EC-P521"])
def test_client_key_pair_generate_and_reload(kind: Any) -> None:
    pair = ClientKeyPair.generate(kind, kid="kid-1")
    assert pair.kind == kind and pair.kid == "kid-1"
    assert repr(pair) == f"ClientKeyPair(kid='kid-1', kind='{kind}')"
    assert str(pair) == repr(pair)
    reloaded = ClientKeyPair.from_pem(pair.export_private_pem(password=b"pw"), kid="kid-1", password=b"pw")
    assert reloaded.public_key_material_b64() == pair.public_key_material_b64()
    assert (
        load_public_key(pair.public_key_material_b64()).as_dict()
        == load_public_key(pair.public_pem()).as_dict()
    )


def test_client_key_pair_default_kid_is_uuid() -> None:
    import uuid

    pair = ClientKeyPair.generate("EC-P256")
    assert str(uuid.UUID(pair.kid)) == pair.kid


def test_client_key_pair_wrong_password_is_typed_and_quiet(client_key: ClientKeyPair) -> None:
    pem = client_key.export_private_pem(password=b"right")
    with pytest.raises(JoseKeyError) as info:
        ClientKeyPair.from_pem(pem, kid="k", password=b"wrong")
    assert pem.decode().splitlines()[1] not in str(info.value)
    assert info.value.__cause__ is None


def test_client_key_pair_rejects_public_key(client_key: ClientKeyPair) -> None:
    with pytest.raises(JoseKeyError):
        ClientKeyPair(RSAKey.import_key(client_key.public_pem()), kid="k")


# --------------------------------------------------------------------------------------------------
# JWE requests and responses


def test_encrypt_jwe_round_trip_and_cek_is_the_real_one(wise_key: ClientKeyPair) -> None:
    request = encrypt_jwe(b'{"pin":"1234"}', wise_key.public_key_material_b64(), kid="wise-enc")
    assert header_of(request.compact) == {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "wise-enc"}
    assert len(request.cek) == 32
    assert unwrap_cek(wise_key, request) == request.cek
    assert decrypt_jwe(request.compact, wise_key, expected_kid="wise-enc") == b'{"pin":"1234"}'


def test_each_request_gets_a_fresh_cek(wise_key: ClientKeyPair) -> None:
    first = encrypt_jwe(b"x", wise_key.public_pem())
    second = encrypt_jwe(b"x", wise_key.public_pem())
    assert first.cek != second.cek


def test_rsa1_5_is_explicit_and_warning_free(wise_key: ClientKeyPair) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any SecurityWarning escaping our call fails the test
        request = encrypt_jwe(b"card", wise_key.public_pem(), alg="RSA1_5")
    assert header_of(request.compact)["alg"] == "RSA1_5"
    assert unwrap_cek(wise_key, request) == request.cek


def test_rsa1_5_is_never_decrypted(wise_key: ClientKeyPair) -> None:
    request = encrypt_jwe(b"card", wise_key.public_pem(), alg="RSA1_5")
    with pytest.raises(JoseAlgorithmError):
        decrypt_jwe(request.compact, wise_key, expected_kid=None)
    with pytest.raises(JoseAlgorithmError):
        decrypt_jwe(request.compact, wise_key, expected_kid=None, algorithms=["RSA1_5"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("alg", "enc"), [("RSA-OAEP", "A256GCM"), ("none", "A256GCM"), ("RSA-OAEP-256", "A128GCM")]
)
def test_encrypt_jwe_refuses_unpinned_algorithms(wise_key: ClientKeyPair, alg: str, enc: str) -> None:
    with pytest.raises(JoseAlgorithmError):
        encrypt_jwe(b"x", wise_key.public_pem(), alg=alg, enc=enc)  # type: ignore[arg-type]


def test_encrypt_jwe_needs_an_rsa_key(signing_key: ClientKeyPair) -> None:
    with pytest.raises(JoseKeyError):
        encrypt_jwe(b"x", signing_key.public_pem())


def test_encrypt_fails_closed_if_joserfc_stops_using_our_cek(
    wise_key: ClientKeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_jose._RequestRegistry, "get_enc", JWERegistry.get_enc)
    with pytest.raises(JoseError, match="CEK"):
        encrypt_jwe(b"x", wise_key.public_pem())


def test_decrypt_response_encrypted_to_client_key(client_key: ClientKeyPair) -> None:
    token = response_to(client_key, b'{"ok":true}', kid=client_key.kid)
    assert decrypt_jwe(token, client_key, expected_kid=client_key.kid) == b'{"ok":true}'
    assert decrypt_jwe(token, client_key.jwk, expected_kid=None) == b'{"ok":true}'  # type: ignore[arg-type]


def test_dir_response_round_trip(wise_key: ClientKeyPair) -> None:
    request = encrypt_jwe(b'{"pin":"1234"}', wise_key.public_pem())
    response = dir_response(request.cek, b'{"status":"VERIFIED"}')
    assert decrypt_jwe_with_cek(response, request.cek) == b'{"status":"VERIFIED"}'
    assert request.decrypt_response(response) == b'{"status":"VERIFIED"}'


@pytest.mark.parametrize("segment", [2, 3, 4], ids=["iv", "ciphertext", "tag"])
def test_tampered_jwe_is_rejected(client_key: ClientKeyPair, wise_key: ClientKeyPair, segment: int) -> None:
    token = response_to(client_key, b'{"ok":true}', kid=client_key.kid)
    with pytest.raises(JweDecryptionError):
        decrypt_jwe(tamper(token, segment), client_key, expected_kid=client_key.kid)
    request = encrypt_jwe(b"x", wise_key.public_pem())
    with pytest.raises(JweDecryptionError):
        decrypt_jwe_with_cek(tamper(dir_response(request.cek, b"secret"), segment), request.cek)


def test_tampered_encrypted_key_is_rejected(client_key: ClientKeyPair) -> None:
    token = response_to(client_key, b'{"ok":true}')
    with pytest.raises(JweDecryptionError):
        decrypt_jwe(tamper(token, 1), client_key, expected_kid=None)


def test_header_swap_keeps_alg_but_breaks_authentication(client_key: ClientKeyPair) -> None:
    token = response_to(client_key, b"x", kid=client_key.kid)
    swapped = with_header(token, {"kid": client_key.kid, "alg": "RSA-OAEP-256", "enc": "A256GCM"})
    with pytest.raises(JweDecryptionError):
        decrypt_jwe(swapped, client_key, expected_kid=client_key.kid)


def test_swapped_key_is_rejected(client_key: ClientKeyPair, other_rsa_key: ClientKeyPair) -> None:
    # Same kid, different key: the kid check passes, the key does not fit.
    token = response_to(other_rsa_key, b"x", kid=client_key.kid)
    with pytest.raises(JweDecryptionError):
        decrypt_jwe(token, client_key, expected_kid=client_key.kid)


def test_cek_of_another_request_is_rejected(wise_key: ClientKeyPair) -> None:
    mine = encrypt_jwe(b"x", wise_key.public_pem())
    theirs = encrypt_jwe(b"x", wise_key.public_pem())
    with pytest.raises(JweDecryptionError):
        mine.decrypt_response(dir_response(theirs.cek, b"secret"))


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none", "enc": "A256GCM"},
        {"alg": "NONE", "enc": "A256GCM"},
        {"enc": "A256GCM"},
        {"alg": None, "enc": "A256GCM"},
        {"alg": "RSA-OAEP", "enc": "A256GCM"},
        {"alg": "RSA1_5", "enc": "A256GCM"},
        {"alg": "dir", "enc": "A256GCM"},
        {"alg": "A256KW", "enc": "A256GCM"},
        {"alg": "RSA-OAEP-256", "enc": "A128CBC-HS256"},
        {"alg": "RSA-OAEP-256"},
        {"alg": "RSA-OAEP-256", "enc": ["A256GCM"]},
        {"alg": ["RSA-OAEP-256"], "enc": "A256GCM"},
        {"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF"},
        {"alg": "RSA-OAEP-256", "enc": "A256GCM", "jku": "https://evil.example/jwks"},
        {"alg": "RSA-OAEP-256", "enc": "A256GCM", "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},
        {"alg": "RSA-OAEP-256", "enc": "A256GCM", "crit": ["exp"], "exp": 1},
    ],
)
def test_unexpected_jwe_header_is_rejected_before_decrypting(
    client_key: ClientKeyPair, header: dict[str, Any]
) -> None:
    token = with_header(response_to(client_key, b"x"), header)
    with pytest.raises(JoseAlgorithmError):
        decrypt_jwe(token, client_key, expected_kid=None)
    # Checked before the key is even looked at: a public key would otherwise be a JoseKeyError.
    with pytest.raises(JoseAlgorithmError):
        decrypt_jwe(token, RSAKey.import_key(client_key.public_pem()), expected_kid=None)


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none", "enc": "A256GCM"},
        {"alg": "RSA-OAEP-256", "enc": "A256GCM"},
        {"alg": "dir", "enc": "A128GCM"},
        {"alg": "dir", "enc": "A256GCM", "zip": "DEF"},
    ],
)
def test_unexpected_dir_header_is_rejected(wise_key: ClientKeyPair, header: dict[str, Any]) -> None:
    request = encrypt_jwe(b"x", wise_key.public_pem())
    token = with_header(dir_response(request.cek, b"secret"), header)
    with pytest.raises(JoseAlgorithmError):
        decrypt_jwe_with_cek(token, request.cek)


def test_wrong_or_missing_kid_is_rejected(client_key: ClientKeyPair) -> None:
    with pytest.raises(JoseAlgorithmError, match="kid"):
        decrypt_jwe(
            response_to(client_key, b"x", kid="someone-else"), client_key, expected_kid=client_key.kid
        )
    with pytest.raises(JoseAlgorithmError, match="kid"):
        decrypt_jwe(response_to(client_key, b"x"), client_key, expected_kid=client_key.kid)


@pytest.mark.parametrize("token", ["", "a.b.c", "a.b.c.d.e", "!!!.a.b.c.d", b64url(b"[1]") + ".a.b.c.d"])
def test_malformed_jwe_is_typed(client_key: ClientKeyPair, token: str) -> None:
    with pytest.raises(JweDecryptionError):
        decrypt_jwe(token, client_key, expected_kid=None)
    with pytest.raises(JweDecryptionError):
        decrypt_jwe_with_cek(token, b"\0" * 32)


def test_wrong_size_cek_is_a_key_error(wise_key: ClientKeyPair) -> None:
    request = encrypt_jwe(b"x", wise_key.public_pem())
    with pytest.raises(JoseKeyError):
        decrypt_jwe_with_cek(dir_response(request.cek, b"x"), request.cek[:16])


def test_decrypt_jwe_allow_list_is_validated(client_key: ClientKeyPair) -> None:
    token = response_to(client_key, b"x")
    with pytest.raises(JoseAlgorithmError):
        decrypt_jwe(token, client_key, expected_kid=None, algorithms=[])
    with pytest.raises(JoseAlgorithmError):
        decrypt_jwe(token, client_key, expected_kid=None, algorithms=["dir"])  # type: ignore[list-item]


# --------------------------------------------------------------------------------------------------
# JWS


@pytest.mark.parametrize(
    ("kind", "alg"),
    [
        ("EC-P256", "ES256"),
        ("EC-P384", "ES384"),
        ("EC-P521", "ES512"),
        ("RSA", "PS256"),
        ("RSA", "PS384"),
        ("RSA", "PS512"),
    ],
)
def test_jws_round_trip(kind: Any, alg: Any) -> None:
    pair = ClientKeyPair.generate(kind, kid="k-1")
    token = sign_jws(b'{"amount":1}', pair, alg=alg, url="/v3/profiles/1/transfers")
    assert header_of(token) == {"alg": alg, "kid": "k-1", "url": "/v3/profiles/1/transfers"}
    assert (
        verify_jws(token, pair.public_key_material_b64(), algorithms=[alg], expected_kid="k-1")
        == b'{"amount":1}'
    )


def test_jws_explicit_kid_overrides(signing_key: ClientKeyPair) -> None:
    token = sign_jws(b"x", signing_key.jwk, alg="ES512", kid="explicit", url="/v1/x")
    assert header_of(token)["kid"] == "explicit"
    with pytest.raises(JoseKeyError):
        sign_jws(b"x", signing_key.jwk, alg="ES512", url="/v1/x")  # bare key, no kid


def test_verify_wise_style_response_header(signing_key: ClientKeyPair) -> None:
    """Wise's responses carry ``{"version": 1, "alg": "ES512"}`` and no kid."""
    registry = jws.JWSRegistry(header_registry={"version": HeaderParameter("v", "int")}, algorithms=["ES512"])
    token = jws.serialize_compact(
        {"version": 1, "alg": "ES512"}, b'{"message":"hi"}', signing_key.jwk, registry=registry
    )
    assert verify_jws(token, signing_key.public_pem(), algorithms=["ES512"]) == b'{"message":"hi"}'
    with pytest.raises(JoseAlgorithmError, match="kid"):
        verify_jws(token, signing_key.public_pem(), algorithms=["ES512"], expected_kid="sig-key")


def test_jws_tampered_payload_is_rejected(signing_key: ClientKeyPair) -> None:
    token = sign_jws(b'{"amount":1}', signing_key, alg="ES512", url="/v1/x")
    head, _payload, sig = token.split(".")
    forged = ".".join([head, b64url(b'{"amount":1000}'), sig])
    with pytest.raises(JwsVerificationError):
        verify_jws(forged, signing_key.public_pem(), algorithms=["ES512"])
    with pytest.raises(JwsVerificationError):
        verify_jws(tamper(token, 2), signing_key.public_pem(), algorithms=["ES512"])


def test_jws_swapped_key_is_rejected(signing_key: ClientKeyPair) -> None:
    other = ClientKeyPair.generate("EC-P521", kid=signing_key.kid)
    token = sign_jws(b"x", signing_key, alg="ES512", url="/v1/x")
    with pytest.raises(JwsVerificationError):
        verify_jws(token, other.public_pem(), algorithms=["ES512"], expected_kid=signing_key.kid)


def test_jws_key_that_does_not_fit_alg_is_rejected(signing_key: ClientKeyPair) -> None:
    p256 = ClientKeyPair.generate("EC-P256", kid="k")
    token = sign_jws(b"x", p256, alg="ES256", url="/v1/x")
    with pytest.raises(JwsVerificationError):
        verify_jws(token, signing_key.public_pem(), algorithms=["ES256", "ES512"])  # P-521 key
    with pytest.raises(JoseKeyError):
        sign_jws(b"x", signing_key, alg="PS256", url="/v1/x")  # EC key, RSA alg
    with pytest.raises(JoseKeyError):
        sign_jws(
            b"x", RSAKey.import_key(ClientKeyPair.generate().public_pem()), alg="PS256", kid="k", url="/v1/x"
        )


def test_jws_alg_none_and_hmac_confusion_are_rejected(client_key: ClientKeyPair) -> None:
    payload = b64url(b'{"amount":1000}')
    unsigned = f"{b64url(json.dumps({'alg': 'none'}).encode())}.{payload}."
    with pytest.raises(JoseAlgorithmError, match="never accepted"):
        verify_jws(unsigned, client_key.public_pem(), algorithms=["PS256"])
    # Classic confusion: HMAC "signed" with the public key bytes as the secret.
    hs = jws.serialize_compact(
        {"alg": "HS256"},
        b'{"amount":1000}',
        OctKey.import_key(b"0123456789abcdef0123456789abcdef"),
        algorithms=["HS256"],
    )
    with pytest.raises(JoseAlgorithmError):
        verify_jws(hs, client_key.public_pem(), algorithms=["PS256"])


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "PS256", "b64": False, "crit": ["b64"]},
        {"alg": "PS256", "jwk": {"kty": "RSA"}},
        {"alg": "PS256", "x5u": "https://evil.example/cert"},
        {"alg": "RS256"},
        {"alg": "ES512"},
    ],
)
def test_unexpected_jws_header_is_rejected(client_key: ClientKeyPair, header: dict[str, Any]) -> None:
    token = with_header(sign_jws(b"x", client_key, alg="PS256", url="/v1/x"), header)
    with pytest.raises(JoseAlgorithmError):
        verify_jws(token, client_key.public_pem(), algorithms=["PS256"])


def test_jws_allow_list_is_validated(client_key: ClientKeyPair) -> None:
    token = sign_jws(b"x", client_key, alg="PS256", url="/v1/x")
    for bad in ([], ["HS256"], ["none"]):
        with pytest.raises(JoseAlgorithmError):
            verify_jws(token, client_key.public_pem(), algorithms=bad)  # type: ignore[arg-type]
    with pytest.raises(JoseAlgorithmError):
        sign_jws(b"x", client_key, alg="RS256", url="/v1/x")  # type: ignore[arg-type]


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.a.b"])
def test_malformed_jws_is_typed(client_key: ClientKeyPair, token: str) -> None:
    with pytest.raises(JwsVerificationError):
        verify_jws(token, client_key.public_pem(), algorithms=["PS256"])


def test_sign_then_encrypt_and_decrypt_then_verify(
    wise_key: ClientKeyPair, client_key: ClientKeyPair, signing_key: ClientKeyPair
) -> None:
    request = sign_then_encrypt(
        b'{"message":"hi"}',
        signing_key=signing_key,
        jws_alg="ES512",
        url="/v1/auth/jose/playground/jwsjwe",
        encryption_key=wise_key.public_key_material_b64(),
    )
    inner = decrypt_jwe(request.compact, wise_key, expected_kid=None).decode()
    assert verify_jws(
        inner, signing_key.public_pem(), algorithms=["ES512"], expected_kid=signing_key.kid
    ) == (b'{"message":"hi"}')
    # Wise's side of the response: sign with "its" key, encrypt to the client key or with our CEK.
    wise_signer = ClientKeyPair.generate("EC-P521", kid="wise-sig")
    signed = sign_jws(b'{"message":"ok"}', wise_signer, alg="ES512", url="/v1/x")
    to_client = response_to(client_key, signed.encode(), kid=client_key.kid)
    assert (
        decrypt_then_verify(
            to_client,
            verification_key=wise_signer.public_pem(),
            jws_algorithms=["ES512"],
            decryption_key=client_key,
            expected_kid=client_key.kid,
        )
        == b'{"message":"ok"}'
    )
    direct = dir_response(request.cek, signed.encode())
    assert (
        decrypt_then_verify(
            direct, verification_key=wise_signer.public_pem(), jws_algorithms=["ES512"], jwe_request=request
        )
        == b'{"message":"ok"}'
    )
    with pytest.raises(JwsVerificationError):
        decrypt_then_verify(
            direct, verification_key=signing_key.public_pem(), jws_algorithms=["ES512"], jwe_request=request
        )
    with pytest.raises(TypeError):
        decrypt_then_verify(direct, verification_key=wise_signer.public_pem(), jws_algorithms=["ES512"])


# --------------------------------------------------------------------------------------------------
# Card data


def card_details_json() -> bytes:
    return json.dumps(
        {
            "nonce": "33d51227-9ad6-4624-b4b7-7853b56076dd",
            "pan": PAN,
            "cvv2": CVV,
            "expiryDate": "10/31",
            "cardholderName": CARDHOLDER,
        }
    ).encode()


def test_build_card_encrypted_payload(wise_key: ClientKeyPair) -> None:
    body, request = build_card_encrypted_payload(
        {"nonce": "n-1"}, wise_key.public_key_material_b64(), key_version=1
    )
    assert body == {"keyVersion": 1, "encryptedPayload": request.compact}
    assert header_of(request.compact) == {"alg": "RSA1_5", "enc": "A256GCM"}
    iv = b64url_decode(request.compact.split(".")[2])
    assert len(iv) == 12  # the card guide's IV length
    assert unwrap_cek(wise_key, request) == request.cek
    # Wise's side: unwrap the CEK, then AES-GCM with the header segment as AAD.
    head, _ek, _iv, ciphertext, tag = request.compact.split(".")
    plain = AESGCM(request.cek).decrypt(iv, b64url_decode(ciphertext) + b64url_decode(tag), head.encode())
    assert json.loads(plain) == {"nonce": "n-1"}
    _body, oaep = build_card_encrypted_payload({}, wise_key.public_pem(), key_version=2, alg="RSA-OAEP-256")
    assert header_of(oaep.compact)["alg"] == "RSA-OAEP-256"
    with pytest.raises(InvalidRequestError):
        build_card_encrypted_payload({}, wise_key.public_pem(), key_version="1")  # type: ignore[arg-type]


def test_parse_card_response_accepts_both_forms(wise_key: ClientKeyPair) -> None:
    _body, request = build_card_encrypted_payload({}, wise_key.public_pem(), key_version=1)
    token = dir_response(request.cek, card_details_json())
    expected = json.loads(card_details_json())
    assert parse_card_response(card_details_json(), "application/json", request) == expected
    assert parse_card_response(token.encode(), "application/jose+json", request) == expected
    assert parse_card_response(token.encode() + b"\n", "text/plain", request) == expected
    assert (
        parse_card_response(json.dumps(token).encode(), "application/json; charset=utf-8", request)
        == expected
    )
    assert parse_card_response(b"  ", "application/json", request) == {}


def test_parse_card_response_failures_are_typed(wise_key: ClientKeyPair) -> None:
    _body, request = build_card_encrypted_payload({}, wise_key.public_pem(), key_version=1)
    _other_body, other = build_card_encrypted_payload({}, wise_key.public_pem(), key_version=1)
    with pytest.raises(JweDecryptionError):
        parse_card_response(
            dir_response(other.cek, card_details_json()).encode(), "application/jose+json", request
        )
    with pytest.raises(JoseError):
        parse_card_response(b"<html>oops</html>", "text/html", request)
    with pytest.raises(JoseError):
        parse_card_response(b"[1, 2]", "application/json", request)
    with pytest.raises(JweDecryptionError):
        parse_card_response(dir_response(request.cek, b"not json " + PAN.encode()).encode(), None, request)
    with pytest.raises(JoseAlgorithmError):
        parse_card_response(
            with_header(dir_response(request.cek, b"{}"), {"alg": "none", "enc": "A256GCM"}).encode(),
            "application/jose+json",
            request,
        )


def test_sensitive_card_details_hide_secrets() -> None:
    details = SensitiveCardDetails.from_response(json.loads(card_details_json()))
    assert details.reveal_pan() == PAN and details.reveal_cvv() == CVV
    assert details.masked_pan == "************2345" and details.last4 == "2345"
    assert details.expiry_date == "10/31" and details.cardholder_name == CARDHOLDER
    for text in (repr(details), str(details), f"{details}", repr([details])):
        assert "************2345" in text
        for secret in (PAN, "43969100", CVV, "10/31", CARDHOLDER):
            assert secret not in text
    assert "cvv='***'" in repr(details)


def test_card_pin_hides_pin() -> None:
    pin = CardPin.from_response({"nonce": "n", "pin": PIN})
    assert pin.reveal_pin() == PIN
    assert repr(pin) == "CardPin(pin='***', nonce='n')" == str(pin)


def test_card_value_objects_name_missing_fields_not_values() -> None:
    with pytest.raises(JoseError, match="'cvv2'") as info:
        SensitiveCardDetails.from_response({"pan": PAN})
    assert PAN not in str(info.value)
    with pytest.raises(JoseError, match="'pin'"):
        CardPin.from_response({"pin": 1234})


# --------------------------------------------------------------------------------------------------
# Nothing secret in reprs, messages or logs


def test_no_secret_in_repr_messages_or_debug_logs(
    wise_key: ClientKeyPair, client_key: ClientKeyPair, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    private_pem = client_key.export_private_pem().decode()
    body, request = build_card_encrypted_payload(
        {"pin": PIN}, wise_key.public_key_material_b64(), key_version=1
    )
    cek_forms = {
        request.cek.hex(),
        b64url(request.cek),
        base64.b64encode(request.cek).decode(),
        repr(request.cek),
    }
    token = dir_response(request.cek, card_details_json())
    details = SensitiveCardDetails.from_response(
        parse_card_response(token.encode(), "application/jose+json", request)
    )
    pin = CardPin.from_response(
        parse_card_response(
            dir_response(request.cek, b'{"pin":"' + PIN.encode() + b'"}').encode(), None, request
        )
    )
    signed = sign_jws(b'{"pin":"' + PIN.encode() + b'"}', client_key, alg="PS256", url="/v1/x")
    verify_jws(signed, client_key.public_pem(), algorithms=["PS256"])

    messages: list[str] = []
    for call in (
        lambda: decrypt_jwe_with_cek(tamper(token, 3), request.cek),
        lambda: decrypt_jwe(response_to(client_key, PIN.encode()), wise_key, expected_kid=None),
        lambda: parse_card_response(dir_response(request.cek, PAN.encode()).encode(), None, request),
        lambda: ClientKeyPair.from_pem(private_pem[:-40], kid="k"),
        lambda: load_public_key(private_pem),
        lambda: decrypt_jwe_with_cek(token, request.cek[:31]),
    ):
        with pytest.raises(JoseError) as info:
            call()
        messages.append(str(info.value))
        messages.append(repr(info.value))

    # (The compact token is base64url ciphertext and could contain "739" by chance: checked apart.)
    rendered = "\n".join([caplog.text, repr(details), str(details), repr(pin), repr(client_key), *messages])
    assert caplog.records, "expected debug records from the JOSE layer"
    for secret in (PAN, CVV, PIN, CARDHOLDER, private_pem.splitlines()[1], *cek_forms):
        assert secret not in rendered, secret
    for text in (repr(request), str(request)):
        assert "cek" not in text
        for secret in cek_forms:
            assert secret not in text
    assert body["encryptedPayload"] == request.compact
