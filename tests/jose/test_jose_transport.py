"""The JOSE layer of the client against FakeWise: JWE/JWS/jws+jwe round trips, the SCA factors, key
fetching and refresh, pass-through rules, and typed rejection of anything off the allow-list."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from loopback.servers import serve_in_thread

from wise_async import (
    ConfigurationError,
    InternalServerError,
    PartnerScaSolver,
    RetryPolicy,
    ScaChallenge,
    ScaRequiredError,
    WiseClient,
)
from wise_async._jose import verify_jws
from wise_async._jose_transport import JOSE_RESPONSE_EXTENSION
from wise_async.jose import (
    ClientKeyPair,
    JoseAlgorithmError,
    JoseKeyError,
    JoseKeyring,
    JweDecryptionError,
    JwsVerificationError,
)
from wise_async.testing import FakeJose, FakeWise, RecordedRequest
from wise_async.testing._fake_jose import jwe_decrypt_rsa, jwe_encrypt, jws_sign

from .conftest import CLIENT_ID, CLIENT_SECRET, ClientKeys, WiseKeys, make_client

PLAYGROUND = "/v1/auth/jose/playground"
JWE = {"X-TW-JOSE-Method": "jwe"}
FINGERPRINT = "3207da22-a0d3-4b6b-a591-6297e646fe32"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def header_of(compact: str) -> dict[str, Any]:
    segment = compact.split(".", 1)[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))  # type: ignore[no-any-return]


def last(fake: FakeWise, operation_id: str) -> RecordedRequest:
    return fake.calls(operation_id)[-1]


# --------------------------------------------------------------------------------------------------
# Round trips


async def test_direct_encryption_through_the_generated_facade(
    wise: Any, fake: FakeWise, wise_keys: WiseKeys
) -> None:
    from wise_api.models.jose_playground_jwe_direct_encryption_accept import (
        JosePlaygroundJweDirectEncryptionAccept as Accept,
    )
    from wise_api.models.jose_playground_jwe_direct_encryption_x_tw_jose_method import (
        JosePlaygroundJweDirectEncryptionXTwJoseMethod as Method,
    )

    answer = await wise.jose.playground_jwe_direct_encryption(
        body=json.dumps({"message": "hello"}),
        accept=Accept("application/jose+json"),
        x_tw_jose_method=Method("jwe"),
    )
    assert answer == {"message": "jose-playground-response-hello", "method": "POST"}
    assert fake.counters["jose:dir"] == 1

    sent = last(fake, "josePlaygroundJweDirectEncryption")
    compact = sent.body.decode("ascii")
    assert compact.count(".") == 4 and b"hello" not in sent.body
    assert header_of(compact) == {"alg": "RSA-OAEP-256", "enc": "A256GCM"}
    for name, value in {
        "content-type": "application/jose+json",
        "accept": "application/jose+json",
        "x-tw-jose-method": "jwe",
        "accept-encoding": "identity",
        "content-encoding": "identity",
    }.items():
        assert sent.headers[name] == value
    # Wise's private key opens it: the plaintext is the JSON document, not the JSON string around it.
    plaintext, _, _ = jwe_decrypt_rsa(compact, wise_keys.encryption, algorithms={"RSA-OAEP-256"})
    assert json.loads(plaintext) == {"message": "hello"}


async def test_response_encrypted_to_the_client_key(wise: Any, fake: FakeWise) -> None:
    response = await wise.http_client.post(f"{PLAYGROUND}/jwe", json={"message": "kid"}, headers=JWE)
    assert response.json() == {"message": "jose-playground-response-kid", "method": "POST"}
    assert response.extensions[JOSE_RESPONSE_EXTENSION] == "RSA-OAEP-256"
    assert response.headers["content-type"] == "application/json"
    assert fake.counters["jose:kid"] == 1


async def test_get_without_body_sends_no_body_and_reads_the_encrypted_answer(
    wise: Any, fake: FakeWise
) -> None:
    response = await wise.http_client.get(f"{PLAYGROUND}/jwe", headers=JWE)
    assert response.json() == {"message": "jose-playground-response-", "method": "GET"}
    sent = last(fake, "josePlaygroundJweGet")
    assert sent.body == b"" and "content-type" not in sent.headers
    assert sent.headers["accept"] == "application/jose+json"
    assert fake.counters["jose_key_fetch:PAYLOAD_ENCRYPTION"] == 0  # nothing to encrypt, no key needed


async def test_jws_request_is_signed_with_url_and_kid(
    wise: Any, fake: FakeWise, client_keys: ClientKeys
) -> None:
    response = await wise.http_client.post(
        f"{PLAYGROUND}/jws", json={"message": "signed"}, headers={"X-TW-JOSE-Method": "jws"}
    )
    assert response.json()["message"] == "jose-playground-response-signed"
    assert response.extensions[JOSE_RESPONSE_EXTENSION] == "jws"
    compact = last(fake, "josePlaygroundJws").body.decode("ascii")
    header = header_of(compact)
    assert header == {"alg": "ES512", "kid": client_keys.signing.kid, "url": f"{PLAYGROUND}/jws"}
    payload = verify_jws(compact, client_keys.signing.public_pem(), algorithms=["ES512"])
    assert json.loads(payload) == {"message": "signed"}
    assert fake.counters["jose:verified"] == 1 and fake.counters["jose:signed"] == 1


async def test_jws_plus_jwe_signs_then_encrypts_and_decrypts_then_verifies(
    wise: Any, fake: FakeWise, wise_keys: WiseKeys
) -> None:
    response = await wise.http_client.post(
        f"{PLAYGROUND}/jwsjwe", json={"message": "both"}, headers={"X-TW-JOSE-Method": "jws+jwe"}
    )
    assert response.json() == {"message": "jose-playground-response-both", "method": "POST"}
    compact = last(fake, "josePlaygroundJwsJwe").body.decode("ascii")
    inner, _, _ = jwe_decrypt_rsa(compact, wise_keys.encryption, algorithms={"RSA-OAEP-256"})
    assert inner.count(b".") == 2 and header_of(inner.decode())["alg"] == "ES512"
    assert fake.counters["jose:verified"] == 1 and fake.counters["jose:signed"] == 1


async def test_partner_sca_solver_clears_pin_and_device_fingerprint_over_jwe(
    fake: FakeWise, keyring: JoseKeyring, registered: None
) -> None:
    fake.sca_operations.add("profileList")
    fake.sca_challenges = ["PIN", "PARTNER_DEVICE_FINGERPRINT"]

    async def pin(challenge: ScaChallenge) -> str:
        return "1234"

    async def device(challenge: ScaChallenge) -> str:
        return FINGERPRINT

    solver = PartnerScaSolver(profile_id=fake.personal_profile_id, pin=pin, device_fingerprint=device)
    async with make_client(fake, jose_keys=keyring, sca_handler=solver) as wise:
        created = await wise.sca_device_fingerprints.create(
            fake.personal_profile_id, body=json.dumps({"deviceFingerprint": FINGERPRINT})
        )
        assert created.device_fingerprint_id
        profiles = await wise.profiles.list()
    assert {p.id for p in profiles} >= {fake.personal_profile_id}
    assert fake.counters["sca_passed:PIN"] == 1
    assert fake.counters["sca_passed:PARTNER_DEVICE_FINGERPRINT"] == 1
    assert fake.counters["jose:dir"] == 2  # both verify answers: direct encryption with our CEK
    for operation in ("scaPinVerify", "scaDeviceFingerprintVerify", "scaDeviceFingerprintCreate"):
        body = last(fake, operation).body
        assert body.count(b".") == 4 and b"1234" not in body and FINGERPRINT.encode() not in body


async def test_generated_pin_verify_and_resume(wise: Any, fake: FakeWise) -> None:
    fake.sca_operations.add("profileList")
    with pytest.raises(ScaRequiredError) as info:
        await wise.profiles.list()
    ott = info.value.one_time_token
    verified = await wise.sca_pins.verify(
        fake.personal_profile_id, body=json.dumps({"pin": "1234"}), one_time_token=uuid.UUID(ott)
    )
    assert str(verified.one_time_token) == ott
    assert b"1234" not in last(fake, "scaPinVerify").body
    assert await info.value.resume()


async def test_create_pin_with_empty_answer(wise: Any, fake: FakeWise) -> None:
    fake.set_pin(None)
    await wise.sca_pins.create(fake.personal_profile_id, body=json.dumps({"pin": "9876"}))
    assert fake._pins[fake.user_id] == "9876"
    assert b"9876" not in last(fake, "scaPinCreate").body


# --------------------------------------------------------------------------------------------------
# Keys: fetched with a client-credentials token, cached, refreshed once


async def test_wise_key_is_fetched_once_with_a_client_credentials_token(
    wise: Any, fake: FakeWise, keyring: JoseKeyring
) -> None:
    for n in range(3):
        await wise.http_client.post(
            f"{PLAYGROUND}/jwe-direct-encryption", json={"message": str(n)}, headers=JWE
        )
    assert fake.counters["jose_key_fetch:PAYLOAD_ENCRYPTION"] == 1 and keyring.fetch_count == 1
    token = last(fake, "joseResponsePublicKeysGet").headers["authorization"].split()[1]
    assert fake._tokens.access[token].kind == "client"
    fetch = last(fake, "joseResponsePublicKeysGet")
    assert "algorithm=RSA_OAEP_256" in fetch.query and "scope=PAYLOAD_ENCRYPTION" in fetch.query


async def test_rotated_wise_key_is_refetched_once_and_the_request_resent(
    wise: Any, fake: FakeWise, jose: FakeJose
) -> None:
    await wise.http_client.post(f"{PLAYGROUND}/jwe-direct-encryption", json={"message": "a"}, headers=JWE)
    jose.rotate_encryption_key()
    response = await wise.http_client.post(
        f"{PLAYGROUND}/jwe-direct-encryption", json={"message": "b"}, headers=JWE
    )
    assert response.status_code == 200 and response.json()["message"].endswith("b")
    assert fake.counters["jose:failures"] == 1
    assert fake.counters["jose_key_fetch:PAYLOAD_ENCRYPTION"] == 2
    assert len(fake.calls("josePlaygroundJweDirectEncryption")) == 3


async def test_a_500_with_an_unchanged_key_is_not_resent(wise: Any, fake: FakeWise) -> None:
    fake.faults.server_error(500, operation="josePlaygroundJweDirectEncryption")
    response = await wise.http_client.post(
        f"{PLAYGROUND}/jwe-direct-encryption", json={"message": "x"}, headers=JWE
    )
    assert response.status_code == 500
    assert response.extensions[JOSE_RESPONSE_EXTENSION] == "plain"
    assert len(fake.calls("josePlaygroundJweDirectEncryption")) == 1
    assert fake.counters["jose_key_fetch:PAYLOAD_ENCRYPTION"] == 2  # refetched once, found the same key


async def test_pinned_key_is_never_fetched_and_a_wrong_one_fails_loudly(
    fake: FakeWise, client_keys: ClientKeys, registered: None
) -> None:
    from wise_api.models.jose_playground_jwe_direct_encryption_accept import (
        JosePlaygroundJweDirectEncryptionAccept as Accept,
    )
    from wise_api.models.jose_playground_jwe_direct_encryption_x_tw_jose_method import (
        JosePlaygroundJweDirectEncryptionXTwJoseMethod as Method,
    )

    keyring = JoseKeyring(client_keys.encryption, wise_encryption_key=client_keys.other_rsa.public_pem())
    async with make_client(fake, jose_keys=keyring) as wise:
        with pytest.raises(InternalServerError):
            await wise.jose.playground_jwe_direct_encryption(
                body='{"message":"m"}', accept=Accept("application/jose+json"), x_tw_jose_method=Method("jwe")
            )
    assert fake.counters["joseResponsePublicKeysGet"] == 0
    assert len(fake.calls("josePlaygroundJweDirectEncryption")) == 1
    assert fake.counters["jose:failures"] == 1


async def test_uploading_client_keys(fake: FakeWise, jose: FakeJose, keyring: JoseKeyring) -> None:
    async with make_client(fake, jose_keys=keyring) as wise:
        encryption = await wise.jose_keys.upload_public_key("PAYLOAD_ENCRYPTION")
        signing = await wise.jose_keys.upload_public_key("PAYLOAD_SIGNING")
        assert str(encryption.key_id) == keyring.client_key.kid  # type: ignore[union-attr]
        assert str(signing.key_id) == keyring.signing_key.kid  # type: ignore[union-attr]
        response = await wise.http_client.post(
            f"{PLAYGROUND}/jwsjwe", json={"message": "up"}, headers={"X-TW-JOSE-Method": "jws+jwe"}
        )
        assert response.json()["message"].endswith("up")
    uploads = [json.loads(r.body) for r in fake.calls("joseRequestPublicKeysCreate")]
    assert [u["publicKeyMaterial"]["algorithm"] for u in uploads] == ["RSA_OAEP_256", "ES512"]
    assert all("PRIVATE" not in json.dumps(u) for u in uploads)
    assert {k.scope for k in jose.client_keys.values()} == {"PAYLOAD_ENCRYPTION", "PAYLOAD_SIGNING"}


async def test_generated_keyring_round_trips_through_pem(fake: FakeWise, jose: FakeJose) -> None:
    generated = JoseKeyring.generate()
    assert generated.client_key is not None and generated.signing_key is not None
    pem = generated.client_key.export_private_pem(password=b"pw")
    reloaded = JoseKeyring(
        ClientKeyPair.from_pem(pem, kid=generated.client_key.kid, password=b"pw"),
        signing_key=generated.signing_key,
    )
    async with make_client(fake, jose_keys=generated) as wise:
        await wise.jose_keys.upload_public_key("PAYLOAD_ENCRYPTION")
    async with make_client(fake, jose_keys=reloaded) as wise:
        response = await wise.http_client.post(f"{PLAYGROUND}/jwe", json={"message": "pem"}, headers=JWE)
    assert response.json()["message"].endswith("pem")


# --------------------------------------------------------------------------------------------------
# What gets JOSE and what does not


async def test_without_jose_keys_nothing_changes(fake: FakeWise) -> None:
    fake.sca_operations.add("profileList")

    async def pin(challenge: ScaChallenge) -> str:
        return "1234"

    solver = PartnerScaSolver(profile_id=fake.personal_profile_id, pin=pin)
    async with make_client(fake, sca_handler=solver) as wise:
        await wise.profiles.list()
    verify = last(fake, "scaPinVerify")
    assert json.loads(verify.body) == {"pin": "1234"}  # plain JSON, as before JOSE existed
    assert fake.counters["joseResponsePublicKeysGet"] == 0


async def test_extension_forces_or_disables_jose(
    fake: FakeWise, keyring: JoseKeyring, registered: None
) -> None:
    async with make_client(fake) as plain_client:
        forced = await plain_client.http_client.post(
            f"{PLAYGROUND}/jwe-direct-encryption", json={"message": "f"}, extensions={"wise_jose": "jwe"}
        )
    assert forced.json()["message"].endswith("f")
    assert last(fake, "josePlaygroundJweDirectEncryption").body.count(b".") == 4

    async with make_client(fake, jose_keys=keyring) as wise:
        off = await wise.http_client.post(
            f"{PLAYGROUND}/jwe-direct-encryption", json={"message": "o"}, extensions={"wise_jose": "off"}
        )
        with pytest.raises(ValueError, match="wise_jose"):
            await wise.http_client.get("/v2/profiles", extensions={"wise_jose": "jwx"})
    assert off.status_code == 400  # the playground insists on JOSE; the body went out as plain JSON
    assert json.loads(last(fake, "josePlaygroundJweDirectEncryption").body) == {"message": "o"}


async def test_device_built_jwe_is_sent_unchanged(wise: Any, fake: FakeWise, jose: FakeJose) -> None:
    from wise_async._jose import encrypt_jwe

    device = encrypt_jwe(b'{"message":"device"}', jose.public_key_b64("PAYLOAD_ENCRYPTION"))
    response = await wise.http_client.post(
        f"{PLAYGROUND}/jwe-direct-encryption", content=device.compact, headers=JWE
    )
    assert last(fake, "josePlaygroundJweDirectEncryption").body == device.compact.encode()
    assert response.extensions[JOSE_RESPONSE_EXTENSION] == "undecrypted"  # only the device has the CEK
    assert json.loads(device.decrypt_response(response.text))["message"].endswith("device")
    assert fake.counters["jose_key_fetch:PAYLOAD_ENCRYPTION"] == 0


async def test_transport_retry_resends_identical_ciphertext(
    fake: FakeWise, keyring: JoseKeyring, registered: None
) -> None:
    fake.faults.rate_limit(retry_after=0, operation="josePlaygroundJweDirectEncryption")
    async with make_client(fake, jose_keys=keyring, retry_policy=RetryPolicy(initial_delay=0)) as wise:
        response = await wise.http_client.post(
            f"{PLAYGROUND}/jwe-direct-encryption", json={"message": "r"}, headers=JWE
        )
    assert response.json()["message"].endswith("r")
    first, second = fake.calls("josePlaygroundJweDirectEncryption")
    assert first.status == 429 and first.body == second.body


async def test_auth_replay_is_encrypted_afresh(
    fake: FakeWise, keyring: JoseKeyring, registered: None
) -> None:
    async with make_client(fake, jose_keys=keyring) as wise:
        await wise.profiles.list()  # the user token is in use
        fake.clock.advance(1)
        for record in fake.calls("profileList"):
            fake.revoke_token(record.headers["authorization"].split()[1])
        created = await wise.http_client.post(
            "/v1/user/partner-device-fingerprints", json={"deviceFingerprint": FINGERPRINT}
        )
    assert created.status_code == 200
    rejected, replayed = fake.calls("userSecurityDeviceFingerprintCreate")
    assert rejected.status == 401 and replayed.status == 200
    assert rejected.body != replayed.body  # a fresh CEK and IV for the replay


# --------------------------------------------------------------------------------------------------
# Rejections: each a typed error


def _replace(token: Callable[[], str]) -> Callable[[str], str]:
    return lambda _original: token()


def _tamper_ciphertext(compact: str) -> str:
    parts = compact.split(".")
    ciphertext = bytearray(base64.urlsafe_b64decode(parts[3] + "=" * (-len(parts[3]) % 4)))
    ciphertext[0] ^= 0x01
    parts[3] = b64url(bytes(ciphertext))
    return ".".join(parts)


PLAYGROUND_ANSWER = json.dumps({"message": "jose-playground-response-x", "method": "POST"}).encode()


def _to_client(client_keys: ClientKeys, header: dict[str, Any], key: ClientKeyPair | None = None) -> str:
    public = (key or client_keys.encryption).jwk.public_key
    return jwe_encrypt(header, PLAYGROUND_ANSWER, bytes(range(32)), public_key=public)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "make", "error"),
    [
        ("jwe-direct-encryption", lambda keys: None, JweDecryptionError),  # tampered dir ciphertext
        ("jwe", lambda keys: None, JweDecryptionError),  # tampered kid ciphertext
        (
            "jwe",
            lambda keys: _to_client(keys, {"kid": keys.encryption.kid, "enc": "A256GCM", "alg": "RSA1_5"}),
            JoseAlgorithmError,
        ),
        (
            "jwe",
            lambda keys: _to_client(keys, {"kid": "someone-else", "enc": "A256GCM", "alg": "RSA-OAEP-256"}),
            JoseAlgorithmError,
        ),
        (
            "jwe",
            lambda keys: _to_client(
                keys, {"kid": keys.encryption.kid, "enc": "A256GCM", "alg": "RSA-OAEP-256"}, keys.other_rsa
            ),
            JweDecryptionError,
        ),
        (
            "jwe",
            lambda keys: _to_client(
                keys,
                {
                    "kid": keys.encryption.kid,
                    "enc": "A256GCM",
                    "alg": "RSA-OAEP-256",
                    "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
                },
            ),
            JoseAlgorithmError,
        ),
        (
            "jwe",
            lambda keys: (
                b64url(b'{"alg":"none","enc":"A256GCM"}') + "..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA"
            ),
            JoseAlgorithmError,
        ),
    ],
    ids=["tampered-dir", "tampered-kid", "wrong-alg", "wrong-kid", "swapped-key", "embedded-jwk", "alg-none"],
)
async def test_bad_encrypted_responses_are_rejected(
    wise: Any,
    jose: FakeJose,
    client_keys: ClientKeys,
    path: str,
    make: Callable[[ClientKeys], str | None],
    error: type[Exception],
) -> None:
    crafted = make(client_keys)
    jose.response_filter = _tamper_ciphertext if crafted is None else _replace(lambda: crafted)
    with pytest.raises(error):
        await wise.http_client.post(f"{PLAYGROUND}/{path}", json={"message": "x"}, headers=JWE)


async def test_dir_answer_with_a_foreign_cek_is_rejected(wise: Any, jose: FakeJose) -> None:
    jose.response_filter = lambda _c: jwe_encrypt({"alg": "dir", "enc": "A256GCM"}, b"{}", bytes(32))
    with pytest.raises(JweDecryptionError):
        await wise.http_client.post(f"{PLAYGROUND}/jwe-direct-encryption", json={"message": "x"}, headers=JWE)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (
            lambda: jws_sign({"alg": "ES512"}, PLAYGROUND_ANSWER, ec.generate_private_key(ec.SECP521R1())),
            JwsVerificationError,
        ),
        (lambda: b64url(b'{"alg":"none"}') + "." + b64url(PLAYGROUND_ANSWER) + ".", JoseAlgorithmError),
        (lambda: b64url(b'{"alg":"HS256"}') + "." + b64url(PLAYGROUND_ANSWER) + ".c2ln", JoseAlgorithmError),
        (lambda: "not-a-jws", JwsVerificationError),
    ],
    ids=["other-key", "alg-none", "hmac", "unsigned"],
)
async def test_bad_signed_responses_are_rejected(
    wise: Any, fake: FakeWise, jose: FakeJose, make: Callable[[], str], error: type[Exception]
) -> None:
    crafted = make()
    if crafted == "not-a-jws":
        jose.response_mode = "plain"  # Wise "forgets" to sign: a 2xx must not be accepted unsigned
    else:
        jose.response_filter = lambda _c: crafted
    with pytest.raises(error):
        await wise.http_client.post(
            f"{PLAYGROUND}/jws", json={"message": "x"}, headers={"X-TW-JOSE-Method": "jws"}
        )


async def test_signature_failure_refetches_wise_signing_key_once(
    wise: Any, fake: FakeWise, jose: FakeJose
) -> None:
    await wise.http_client.post(
        f"{PLAYGROUND}/jws", json={"message": "a"}, headers={"X-TW-JOSE-Method": "jws"}
    )
    jose.rotate_signing_key()
    response = await wise.http_client.post(
        f"{PLAYGROUND}/jws", json={"message": "b"}, headers={"X-TW-JOSE-Method": "jws"}
    )
    assert response.json()["message"].endswith("b")
    assert fake.counters["jose_key_fetch:PAYLOAD_SIGNING"] == 2


async def test_kid_answer_without_a_client_key_is_a_key_error(fake: FakeWise, registered: None) -> None:
    async with make_client(fake, jose_keys=JoseKeyring()) as wise:
        with pytest.raises(JoseKeyError, match="client_key"):
            await wise.http_client.post(f"{PLAYGROUND}/jwe", json={"message": "x"}, headers=JWE)


async def test_jws_without_a_signing_key_sends_nothing(fake: FakeWise, client_keys: ClientKeys) -> None:
    async with make_client(fake, jose_keys=client_keys.encryption) as wise:
        with pytest.raises(JoseKeyError, match="signing_key"):
            await wise.http_client.post(
                f"{PLAYGROUND}/jws", json={"message": "x"}, headers={"X-TW-JOSE-Method": "jws"}
            )
    assert fake.calls("josePlaygroundJws") == []


def test_keyring_configuration_is_validated(client_keys: ClientKeys) -> None:
    with pytest.raises(JoseKeyError):
        JoseKeyring(client_keys.signing)  # EC keys cannot decrypt RSA-OAEP-256
    with pytest.raises(JoseKeyError):
        JoseKeyring(signing_key=client_keys.signing, jws_algorithm="PS256")
    with pytest.raises(JoseAlgorithmError):
        JoseKeyring(response_algorithms=["RSA1_5"])  # type: ignore[list-item]
    with pytest.raises(JoseAlgorithmError):
        JoseKeyring(wise_signing_algorithm="HS256")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        JoseKeyring.coerce("pem")  # type: ignore[arg-type]
    assert JoseKeyring.coerce(client_keys.encryption).client_key is client_keys.encryption


async def test_unbound_keyring_says_so() -> None:
    with pytest.raises(RuntimeError, match="jose_keys"):
        await JoseKeyring().wise_encryption_key()


async def test_transport_alone_with_a_mock_server(client_keys: ClientKeys, wise_keys: WiseKeys) -> None:
    """The layer needs no FakeWise: a MockTransport standing in for Wise, keys pinned."""
    from wise_async._jose_transport import JoseTransport

    cek_holder: dict[str, bytes] = {}

    def wise_side(request: httpx.Request) -> httpx.Response:
        if request.headers.get("content-type") != "application/jose+json":
            return httpx.Response(400, json={"echo": request.content.decode()})
        plaintext, cek, _ = jwe_decrypt_rsa(
            request.content.decode(), wise_keys.encryption, algorithms={"RSA-OAEP-256"}
        )
        cek_holder["cek"] = cek
        answer = jwe_encrypt({"alg": "dir", "enc": "A256GCM"}, plaintext[::-1], cek)
        return httpx.Response(200, content=answer, headers={"content-type": "application/jose+json"})

    from cryptography.hazmat.primitives import serialization

    pem = wise_keys.encryption.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    keyring = JoseKeyring(wise_encryption_key=pem)
    transport = JoseTransport(
        httpx.MockTransport(wise_side), keyring=lambda: keyring, operation_for=lambda r: None, automatic=True
    )
    async with httpx.AsyncClient(transport=transport, base_url="https://wise.test") as client:
        response = await client.post("/anything", content=b'{"a":1}', headers=JWE)
        untouched = await client.post("/anything-else", content=b"plain", extensions={"wise_jose": "off"})
    assert response.content == b'{"a":1}'[::-1]
    assert untouched.status_code == 400 and untouched.json() == {"echo": "plain"}
    assert JOSE_RESPONSE_EXTENSION not in untouched.extensions


async def test_unreadable_error_answers_keep_their_status(
    client_keys: ClientKeys, wise_keys: WiseKeys
) -> None:
    from wise_async._jose_transport import JoseTransport

    def wise_side(request: httpx.Request) -> httpx.Response:
        garbage = b64url(b'{"alg":"dir","enc":"A256GCM"}') + "..AAAA.AAAA.AAAA"
        status = 400 if request.url.path == "/error" else 200
        return httpx.Response(status, content=garbage, headers={"content-type": "application/jose+json"})

    wise_public = client_keys.other_rsa.public_pem()  # Wise's key: the mock never decrypts anyway
    keyring = JoseKeyring(client_keys.encryption, wise_encryption_key=wise_public)
    transport = JoseTransport(
        httpx.MockTransport(wise_side), keyring=lambda: keyring, operation_for=lambda r: None, automatic=True
    )
    async with httpx.AsyncClient(transport=transport, base_url="https://wise.test") as client:
        error = await client.post("/error", json={"a": 1}, headers=JWE)
        assert error.status_code == 400 and error.extensions[JOSE_RESPONSE_EXTENSION] == "undecrypted"
        with pytest.raises(JweDecryptionError):
            await client.post("/ok", json={"a": 1}, headers=JWE)
        with pytest.raises(JweDecryptionError, match="no CEK"):
            await client.get("/ok", headers=JWE)  # nothing was encrypted: a dir answer cannot be ours


def test_jose_flows_under_trio(
    fake: FakeWise, keyring: JoseKeyring, registered: None, jose: FakeJose
) -> None:
    import anyio
    import sniffio

    card = jose.add_card()

    async def main() -> list[Any]:
        assert sniffio.current_async_library() == "trio"
        results: list[Any] = []
        async with make_client(fake, jose_keys=keyring) as wise:

            async def call(n: int) -> None:
                response = await wise.http_client.post(
                    f"{PLAYGROUND}/jwsjwe", json={"message": str(n)}, headers={"X-TW-JOSE-Method": "jws+jwe"}
                )
                results.append(response.json()["message"])

            async with anyio.create_task_group() as tg:
                for n in range(5):
                    tg.start_soon(call, n)
            results.append((await wise.card_secrets.get_details(card.token)).last4)
        return results

    results = anyio.run(main, backend="trio")
    assert sorted(results[:5]) == [f"jose-playground-response-{n}" for n in range(5)]
    assert results[5] == card.pan[-4:]
    assert fake.counters["jose_key_fetch:PAYLOAD_ENCRYPTION"] == 1  # single-flight across five tasks
    assert fake.counters["jose_key_fetch:PAYLOAD_SIGNING"] == 1


async def test_callers_http_client_gets_the_jose_layer_too(
    fake: FakeWise, keyring: JoseKeyring, registered: None
) -> None:
    tokens = fake.issue_user_token()
    async with httpx.AsyncClient(transport=fake.transport()) as own:
        wise = WiseClient(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            http_client=own,
            clock=fake.clock.now,
            jose_keys=keyring,
        )
        response = await wise.http_client.post(
            f"{PLAYGROUND}/jwe-direct-encryption", json={"message": "own"}, headers=JWE
        )
    assert response.json()["message"].endswith("own")
    assert last(fake, "josePlaygroundJweDirectEncryption").body.count(b".") == 4


async def test_two_clients_sharing_a_keyring_each_reach_wise_through_themselves(
    fake: FakeWise, keyring: JoseKeyring, registered: None
) -> None:
    """A keyring given to several clients (one per user, say) shares Wise's keys, but a client's key
    fetch goes through that client: closing another one does not break it. Over a loopback socket."""
    with serve_in_thread(fake.asgi_app) as url:
        async with make_client(fake, jose_keys=keyring, transport=None, base_url=url) as first:
            await first.http_client.post(
                f"{PLAYGROUND}/jwe-direct-encryption", json={"message": "a"}, headers=JWE
            )
            async with make_client(fake, jose_keys=keyring, transport=None, base_url=url) as second:
                await second.http_client.post(
                    f"{PLAYGROUND}/jwe-direct-encryption", json={"message": "b"}, headers=JWE
                )
            fake.jose.rotate_encryption_key()  # type: ignore[union-attr]  # the next call must fetch again
            response = await first.http_client.post(
                f"{PLAYGROUND}/jwe-direct-encryption", json={"message": "c"}, headers=JWE
            )
    assert response.status_code == 200 and response.json()["message"].endswith("c")
    assert fake.counters["jose_key_fetch:PAYLOAD_ENCRYPTION"] == 2 and keyring.fetch_count == 2
