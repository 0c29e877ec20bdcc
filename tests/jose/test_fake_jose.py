"""FakeWise's JOSE side on its own, driven with raw httpx: what it accepts, what it refuses, and how."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from wise_async._jose import ClientKeyPair, encrypt_jwe, sign_jws
from wise_async.testing import FakeJose, FakeWise
from wise_async.testing._fake_jose import jwe_decrypt_dir
from wise_async.testing._routes_jose import device_fingerprints

from .conftest import ClientKeys

SANDBOX = "https://api.wise-sandbox.com"
PLAYGROUND = "/v1/auth/jose/playground"


@pytest.fixture
async def client(fake: FakeWise) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=fake.transport(), base_url=SANDBOX) as client:
        yield client


@pytest.fixture
def app(fake: FakeWise) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.issue_client_token()['access_token']}"}


@pytest.fixture
def user(fake: FakeWise) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.issue_user_token()['access_token']}"}


def jose_headers(method: str = "jwe") -> dict[str, str]:
    return {"Content-Type": "application/jose+json", "X-TW-JOSE-Method": method}


async def test_public_keys_need_the_right_algorithm_and_a_client_token(
    client: httpx.AsyncClient, app: dict[str, str], user: dict[str, str], jose: FakeJose
) -> None:
    path = "/v1/auth/jose/response/public-keys"
    ok = await client.get(
        path, params={"algorithm": "RSA_OAEP_256", "scope": "PAYLOAD_ENCRYPTION"}, headers=app
    )
    body = ok.json()
    assert body["keyMaterial"]["keyMaterial"] == jose.public_key_b64("PAYLOAD_ENCRYPTION")
    assert body["version"] == 1 and body["scope"] == "PAYLOAD_ENCRYPTION"
    signing = await client.get(path, params={"algorithm": "ES512", "scope": "PAYLOAD_SIGNING"}, headers=app)
    assert signing.json()["keyMaterial"]["algorithm"] == "ES512"
    wrong = await client.get(path, params={"algorithm": "PS256", "scope": "PAYLOAD_SIGNING"}, headers=app)
    assert wrong.status_code == 404
    missing = await client.get(path, params={"scope": "PAYLOAD_SIGNING"}, headers=app)
    assert missing.status_code == 400
    as_user = await client.get(path, params={"algorithm": "ES512", "scope": "PAYLOAD_SIGNING"}, headers=user)
    assert as_user.status_code == 403


async def test_key_upload_is_validated(
    client: httpx.AsyncClient, app: dict[str, str], jose: FakeJose, client_keys: ClientKeys
) -> None:
    path = "/v1/auth/jose/request/public-keys"
    good = {
        "keyId": client_keys.signing.kid,
        "scope": "PAYLOAD_SIGNING",
        "publicKeyMaterial": {
            "algorithm": "ES512",
            "keyMaterial": client_keys.signing.public_key_material_b64(),
        },
    }
    assert (await client.post(path, json=good, headers=app)).status_code == 201
    assert jose.client_keys[client_keys.signing.kid].algorithm == "ES512"
    mismatched = {**good, "publicKeyMaterial": {**good["publicKeyMaterial"], "algorithm": "PS256"}}  # type: ignore[dict-item]
    assert (await client.post(path, json=mismatched, headers=app)).status_code == 400
    rsa_for_ec = {
        **good,
        "scope": "PAYLOAD_ENCRYPTION",
        "publicKeyMaterial": {
            "algorithm": "RSA_OAEP_256",
            "keyMaterial": client_keys.signing.public_key_material_b64(),
        },
    }
    assert (await client.post(path, json=rsa_for_ec, headers=app)).status_code == 400
    assert (await client.post(path, json={"keyId": "x"}, headers=app)).status_code == 400


async def test_playgrounds_insist_on_jose(
    client: httpx.AsyncClient, app: dict[str, str], jose: FakeJose
) -> None:
    plain = await client.post(
        f"{PLAYGROUND}/jwe", json={"message": "m"}, headers={**app, "X-TW-JOSE-Method": "jwe"}
    )
    assert plain.status_code == 400
    wrong_method = await client.post(
        f"{PLAYGROUND}/jws", content=b"x", headers={**app, **jose_headers("jwe")}
    )
    assert wrong_method.status_code == 400


async def test_undecryptable_or_wrongly_wrapped_requests_get_a_bare_500(
    client: httpx.AsyncClient, app: dict[str, str], fake: FakeWise, jose: FakeJose
) -> None:
    key = jose.public_key_b64("PAYLOAD_ENCRYPTION")
    rsa1_5 = encrypt_jwe(b'{"message":"m"}', key, alg="RSA1_5").compact  # not accepted for payloads
    garbage = "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.AAAA.AAAA.AAAA.AAAA"
    for body in (rsa1_5, garbage, '"' + encrypt_jwe(b"{}", key).compact + '"'):
        response = await client.post(
            f"{PLAYGROUND}/jwe-direct-encryption", content=body, headers={**app, **jose_headers()}
        )
        assert response.status_code == 500 and response.json()["error"] == "Internal Server Error"
    assert fake.counters["jose:failures"] == 3


async def test_direct_answer_uses_the_request_cek(
    client: httpx.AsyncClient, app: dict[str, str], jose: FakeJose
) -> None:
    request = encrypt_jwe(b'{"message":"cek"}', jose.public_key_b64("PAYLOAD_ENCRYPTION"))
    response = await client.post(
        f"{PLAYGROUND}/jwe-direct-encryption", content=request.compact, headers={**app, **jose_headers()}
    )
    assert response.headers["content-type"] == "application/jose+json"
    assert json.loads(jwe_decrypt_dir(response.text, request.cek))["message"].endswith("cek")


async def test_client_jws_must_name_a_registered_key_and_the_request_path(
    client: httpx.AsyncClient, app: dict[str, str], fake: FakeWise, jose: FakeJose, client_keys: ClientKeys
) -> None:
    signer = client_keys.signing
    path = f"{PLAYGROUND}/jws"
    unregistered = sign_jws(b'{"message":"m"}', signer, alg="ES512", url=path)
    assert (
        await client.post(path, content=unregistered, headers={**app, **jose_headers("jws")})
    ).status_code == 500
    jose.register_client_key(signer.public_pem(), key_id=signer.kid, scope="PAYLOAD_SIGNING")
    wrong_url = sign_jws(b'{"message":"m"}', signer, alg="ES512", url="/v1/transfers")
    assert (
        await client.post(path, content=wrong_url, headers={**app, **jose_headers("jws")})
    ).status_code == 500
    impostor = ClientKeyPair.generate("EC-P521", kid=signer.kid)
    forged = sign_jws(b'{"message":"m"}', impostor, alg="ES512", url=path)
    assert (
        await client.post(path, content=forged, headers={**app, **jose_headers("jws")})
    ).status_code == 500
    good = sign_jws(b'{"message":"m"}', signer, alg="ES512", url=path)
    assert (await client.post(path, content=good, headers={**app, **jose_headers("jws")})).status_code == 200
    reasons = {k for k in fake.counters if k.startswith("jose:failure:")}
    assert reasons == {
        "jose:failure:JWS kid is not a registered signing key",
        "jose:failure:JWS url does not match the request path",
        "jose:failure:JWS signature rejected",
    }


async def test_kid_answer_needs_an_uploaded_client_key(
    client: httpx.AsyncClient, app: dict[str, str], jose: FakeJose
) -> None:
    request = encrypt_jwe(b'{"message":"m"}', jose.public_key_b64("PAYLOAD_ENCRYPTION"))
    response = await client.post(
        f"{PLAYGROUND}/jwe", content=request.compact, headers={**app, **jose_headers()}
    )
    assert response.status_code == 500


async def test_device_fingerprint_rules(
    client: httpx.AsyncClient, user: dict[str, str], app: dict[str, str], fake: FakeWise
) -> None:
    create = "/v1/user/partner-device-fingerprints"
    ids = []
    for n in range(3):
        response = await client.post(create, json={"deviceFingerprint": f"fp-{n}"}, headers=user)
        ids.append(response.json()["deviceFingerprintId"])
    assert (await client.post(create, json={"deviceFingerprint": "fp-0"}, headers=user)).status_code == 409
    assert (await client.post(create, json={"deviceFingerprint": "fp-9"}, headers=user)).status_code == 400
    listed = await client.get(f"/v1/users/{fake.user_id}/partner-device-fingerprints", headers=app)
    assert [f["deviceFingerprintId"] for f in listed.json()] == ids
    delete = f"/v1/users/{fake.user_id}/partner-device-fingerprints/{ids[0]}"
    assert (await client.delete(delete, headers=app)).status_code == 204
    assert (await client.delete(delete, headers=app)).status_code == 404
    profile_delete = f"/v2/profiles/{fake.personal_profile_id}/device-fingerprints/{ids[1]}"
    assert (await client.delete(profile_delete, headers=user)).status_code == 204
    assert list(device_fingerprints(fake)) == [ids[2]]


async def test_pin_create_conflicts_and_validation(
    client: httpx.AsyncClient, user: dict[str, str], fake: FakeWise
) -> None:
    path = f"/v2/profiles/{fake.personal_profile_id}/pin"
    assert (await client.post(path, json={"pin": "2222"}, headers=user)).status_code == 409  # seeded 1234
    fake.set_pin(None)
    assert (await client.post(path, json={"pin": "22a2"}, headers=user)).status_code == 400
    assert (await client.post("/v1/user/pin", json={"pin": "2222"}, headers=user)).status_code == 204
    assert fake._pins[fake.user_id] == "2222"


async def test_card_payload_rules(client: httpx.AsyncClient, user: dict[str, str], jose: FakeJose) -> None:
    card = jose.add_card()
    path = "/twcard-data/v1/sensitive-card-data/details"
    headers = {**user, "x-tw-twcard-card-token": card.token}
    key = jose.public_key_b64("CARD")

    async def post(body: dict[str, Any], extra: dict[str, str] | None = None) -> httpx.Response:
        return await client.post(path, json=body, headers={**headers, **(extra or {})})

    good = encrypt_jwe(b"{}", key, alg="RSA1_5")
    assert (await post({"keyVersion": 1, "encryptedPayload": good.compact})).status_code == 200
    assert (await post({"keyVersion": 2, "encryptedPayload": good.compact})).status_code == 400
    assert (await post({"encryptedPayload": good.compact})).status_code == 400
    assert (await post({"keyVersion": 1, "encryptedPayload": "x.y.z.w.v"})).status_code == 400
    jose.card_algorithms = {"RSA-OAEP-256"}
    assert (await post({"keyVersion": 1, "encryptedPayload": good.compact})).status_code == 400
    missing = await client.post(path, json={"keyVersion": 1, "encryptedPayload": good.compact}, headers=user)
    assert missing.status_code == 400


def test_attach_and_of(fake: FakeWise, jose: FakeJose) -> None:
    assert FakeJose.of(fake) is jose
    other = FakeWise()
    attached = FakeJose.of(other)
    assert other.jose is attached and FakeJose.of(other) is attached
    assert "cards=0" in repr(attached)
