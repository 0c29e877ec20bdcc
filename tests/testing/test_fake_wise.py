"""Tests of the FakeWise server itself, driven with raw httpx (no SDK code involved)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import anyio
import httpx
import pytest
import trio
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import wise_async.testing as testing
from wise_async.testing import FakeRequest, FakeResponse, FakeWise

SANDBOX = "https://api.wise-sandbox.com"


# --------------------------------------------------------------------------- fixtures & helpers


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign(key: rsa.RSAPrivateKey, ott: str) -> str:
    return base64.b64encode(key.sign(ott.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


@pytest.fixture
def fake() -> FakeWise:
    fake = FakeWise()
    fake.add_client("client-id", "client-secret")
    return fake


@pytest.fixture
async def client(fake: FakeWise) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=fake.transport(), base_url=SANDBOX) as client:
        yield client


@pytest.fixture
def user(fake: FakeWise) -> dict[str, str]:
    token = fake.issue_user_token(client_id="client-id")["access_token"]
    return {"Authorization": f"Bearer {token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def token_call(client: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await client.post("/oauth/token", auth=("client-id", "client-secret"), data=form)


async def create_quote(
    client: httpx.AsyncClient, headers: dict[str, str], profile_id: int, **body: Any
) -> dict[str, Any]:
    payload = {"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": 100, **body}
    response = await client.post(f"/v3/profiles/{profile_id}/quotes", headers=headers, json=payload)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def create_recipient(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    profile_id: int,
    currency: str = "EUR",
    name: str = "Bob",
) -> dict[str, Any]:
    payload = {
        "currency": currency,
        "type": "iban",
        "profile": profile_id,
        "accountHolderName": name,
        "details": {"legalType": "PRIVATE", "iban": "DE89370400440532013000"},
    }
    response = await client.post("/v1/accounts", headers=headers, json=payload)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def transfer_body(client: httpx.AsyncClient, fake: FakeWise, headers: dict[str, str]) -> dict[str, Any]:
    quote = await create_quote(client, headers, fake.personal_profile_id)
    recipient = await create_recipient(client, headers, fake.personal_profile_id)
    return {
        "targetAccount": recipient["id"],
        "quoteUuid": quote["id"],
        "customerTransactionId": str(uuid.uuid4()),
        "details": {"reference": "Invoice 7"},
    }


async def create_transfer(
    client: httpx.AsyncClient, fake: FakeWise, headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.post(
        "/v1/transfers", headers=headers, json=await transfer_body(client, fake, headers)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def fund_path(fake: FakeWise, transfer_id: int) -> str:
    return f"/v3/profiles/{fake.personal_profile_id}/transfers/{transfer_id}/payments"


# --------------------------------------------------------------------------- package surface


def test_public_names_are_pinned() -> None:
    assert testing.__all__ == sorted(testing.__all__)
    assert set(testing.__all__) == {
        "BalanceMovement",
        "FakeCard",
        "FakeCardOrder",
        "FakeClock",
        "FakeJose",
        "FakeRequest",
        "FakeResponse",
        "FakeWebhooks",
        "FakeWise",
        "FakeWiseTransport",
        "Fault",
        "FaultKind",
        "Faults",
        "JoseHook",
        "OutgoingWebhook",
        "RecordedRequest",
        "RegisteredClientKey",
        "Rejection",
        "ServedApp",
        "WebhookDelivery",
        "serve_asgi",
    }


def test_operations_table_lists_spec_operation_ids(fake: FakeWise) -> None:
    assert len(fake.operations) == len(set(fake.operations))
    assert {"oauthTokenCreate", "transferCreate", "transferFund", "recipientList", "ottStatusGet"} <= set(
        fake.operations
    )


# --------------------------------------------------------------------------- OAuth


async def test_client_credentials_grant(client: httpx.AsyncClient, fake: FakeWise) -> None:
    response = await token_call(client, grant_type="client_credentials")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "expires_at", "scope"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 12 * 3600
    assert body["expires_at"] == "2026-01-01T21:00:00.000Z"
    assert fake.counters["oauth_token"] == 1
    assert fake.counters["grant:client_credentials"] == 1


@pytest.mark.parametrize(
    "auth", [None, ("client-id", "wrong"), ("nobody", "client-secret")], ids=["missing", "secret", "id"]
)
async def test_bad_client_credentials(client: httpx.AsyncClient, auth: tuple[str, str] | None) -> None:
    kwargs: dict[str, Any] = {} if auth is None else {"auth": auth}
    response = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, **kwargs)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_refresh_rotates_and_invalidates_old_pair(client: httpx.AsyncClient, fake: FakeWise) -> None:
    first = fake.issue_user_token(client_id="client-id")
    response = await token_call(client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert set(second) == {
        "access_token",
        "token_type",
        "expires_in",
        "expires_at",
        "scope",
        "refresh_token",
        "refresh_token_expires_in",
        "refresh_token_expires_at",
    }
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]

    old = await client.get("/v2/profiles", headers=bearer(first["access_token"]))
    assert old.status_code == 401
    assert old.json()["error"] == "invalid_token"
    assert (await client.get("/v2/profiles", headers=bearer(second["access_token"]))).status_code == 200

    reused = await token_call(client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert fake.counters["refresh"] == 2


async def test_refresh_token_bound_to_its_client(client: httpx.AsyncClient, fake: FakeWise) -> None:
    fake.add_client("other", "other-secret")
    token = fake.issue_user_token(client_id="other")
    response = await token_call(client, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_expired_refresh_token(client: httpx.AsyncClient, fake: FakeWise) -> None:
    token = fake.issue_user_token(refresh_expires_in=60)
    fake.clock.advance(61)
    response = await token_call(client, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert response.json()["error"] == "invalid_grant"


async def test_authorization_code_grant_is_single_use(client: httpx.AsyncClient, fake: FakeWise) -> None:
    fake.add_authorization_code("code-1", redirect_uri="https://app.example/cb")
    form = {
        "grant_type": "authorization_code",
        "client_id": "client-id",
        "code": "code-1",
        "redirect_uri": "https://app.example/cb",
    }
    bad_redirect = await token_call(client, **{**form, "redirect_uri": "https://evil.example/cb"})
    assert bad_redirect.json()["error"] == "invalid_grant"
    ok = await token_call(client, **form)
    assert ok.status_code == 200
    assert "refresh_token" in ok.json()
    again = await token_call(client, **form)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert fake.counters["grant:authorization_code"] == 3


async def test_registration_code_grant(client: httpx.AsyncClient, fake: FakeWise) -> None:
    user_id = fake.add_user(email="new@example.com")
    fake.add_profile("PERSONAL", user_id=user_id)
    fake.add_registration_code("new@example.com", "reg-code", user_id=user_id)
    form = {"grant_type": "registration_code", "client_id": "client-id", "email": "new@example.com"}
    wrong = await token_call(client, **form, registration_code="nope")
    assert wrong.json()["error"] == "invalid_grant"
    response = await token_call(client, **form, registration_code="reg-code")
    assert response.status_code == 200
    profiles = await client.get("/v2/profiles", headers=bearer(response.json()["access_token"]))
    assert [p["userId"] for p in profiles.json()] == [user_id]


async def test_token_request_errors(client: httpx.AsyncClient) -> None:
    unsupported = await token_call(client, grant_type="password")
    assert (unsupported.status_code, unsupported.json()["error"]) == (400, "unsupported_grant_type")
    missing = await token_call(client)
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    as_json = await client.post(
        "/oauth/token", auth=("client-id", "client-secret"), json={"grant_type": "client_credentials"}
    )
    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
    no_code = await token_call(client, grant_type="authorization_code", client_id="client-id")
    assert no_code.json()["error"] == "invalid_request"


async def test_access_token_expires_by_fake_clock(client: httpx.AsyncClient, fake: FakeWise) -> None:
    token = fake.issue_user_token(expires_in=100)["access_token"]
    assert (await client.get("/v2/profiles", headers=bearer(token))).status_code == 200
    fake.clock.advance(100)
    response = await client.get("/v2/profiles", headers=bearer(token))
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": "Access token expired"}
    assert "invalid_token" in response.headers["www-authenticate"]


async def test_unauthorized_error_style_knob(client: httpx.AsyncClient, fake: FakeWise) -> None:
    fake.auth_error_style = "unauthorized"
    response = await client.get("/v2/profiles", headers=bearer("not-a-token"))
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


async def test_missing_bearer_on_protected_operation(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/profiles")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


async def test_token_kinds_per_operation(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    cc = fake.issue_client_token("client-id")["access_token"]
    personal = fake.add_personal_token()
    assert (await client.get("/v2/profiles", headers=bearer(personal))).status_code == 200
    denied = await client.get("/v2/profiles", headers=bearer(cc))
    assert (denied.status_code, denied.json()["error"]) == (403, "access_denied")
    # userSecurityPinDelete takes only a client-credentials token.
    pin_path = f"/v1/users/{fake.user_id}/pin"
    assert (await client.delete(pin_path, headers=user)).status_code == 403
    assert (await client.delete(pin_path, headers=bearer(personal))).status_code == 403
    assert (await client.delete(pin_path, headers=bearer(cc))).status_code == 204
    assert (await client.delete(pin_path, headers=bearer(cc))).status_code == 404


async def test_revoke_token(client: httpx.AsyncClient, fake: FakeWise) -> None:
    pair = fake.issue_user_token(client_id="client-id")
    fake.revoke_token(pair["refresh_token"])
    assert (await client.get("/v2/profiles", headers=bearer(pair["access_token"]))).status_code == 401
    response = await token_call(client, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    assert response.json()["error"] == "invalid_grant"


# --------------------------------------------------------------------------- serving, hosts, headers


@pytest.mark.parametrize(
    "base_url",
    [
        "https://api.wise.com",
        "https://api.wise-sandbox.com",
        "https://twcard.wise.com",
        "http://localhost:8123/x",
    ],
)
async def test_any_host_is_served_and_recorded(fake: FakeWise, user: dict[str, str], base_url: str) -> None:
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        response = await client.get(f"{base_url.rstrip('/x')}/v2/profiles", headers=user)
    assert response.status_code == 200
    record = fake.requests[-1]
    assert record.host == httpx.URL(base_url).host
    assert (record.method, record.path, record.status) == ("GET", "/v2/profiles", 200)
    assert record.operation_id == "profileList"


async def test_request_log_keeps_copies(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    await client.post(f"/v3/profiles/{fake.personal_profile_id}/quotes?x=1", headers=user, json={"bad": 1})
    record = fake.requests[-1]
    assert record.headers["authorization"] == user["Authorization"]
    assert json.loads(record.body) == {"bad": 1}
    assert record.query == "x=1"
    assert record.status == 422
    assert fake.calls("quoteCreate") == [record]


async def test_trace_id_unique_and_correlation_id_echoed(
    client: httpx.AsyncClient, user: dict[str, str]
) -> None:
    correlation = str(uuid.uuid4())
    first = await client.get("/v2/profiles", headers={**user, "X-External-Correlation-Id": correlation})
    second = await client.get("/v2/profiles", headers=user)
    assert first.headers["x-external-correlation-id"] == correlation
    assert "x-external-correlation-id" not in second.headers
    assert first.headers["x-trace-id"] != second.headers["x-trace-id"]


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    missing = await client.get("/v9/nothing", headers=user)
    assert missing.status_code == 404
    assert missing.json()["status"] == 404
    wrong = await client.delete("/v2/profiles", headers=user)
    assert wrong.status_code == 405


# --------------------------------------------------------------------------- profiles


async def test_profiles_seeded(client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]) -> None:
    profiles = (await client.get("/v2/profiles", headers=user)).json()
    assert [(p["type"], p["id"]) for p in profiles] == [
        ("PERSONAL", fake.personal_profile_id),
        ("BUSINESS", fake.business_profile_id),
    ]
    one = await client.get(f"/v2/profiles/{fake.business_profile_id}", headers=user)
    assert one.json()["businessName"]


async def test_profile_of_other_user_and_unknown(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    other = fake.add_profile("BUSINESS", user_id=fake.add_user(), businessName="Other Ltd")
    assert other["businessName"] == "Other Ltd"
    assert (await client.get(f"/v2/profiles/{other['id']}", headers=user)).status_code == 403
    assert (await client.get("/v2/profiles/1", headers=user)).status_code == 404
    assert (await client.get("/v2/profiles/abc", headers=user)).status_code == 400


# --------------------------------------------------------------------------- quotes


async def test_quote_arithmetic(client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]) -> None:
    fake.set_rate("GBP", "EUR", "1.2")
    quote = await create_quote(client, user, fake.personal_profile_id, sourceAmount=1000)
    fee = quote["paymentOptions"][0]["fee"]["total"]
    assert quote["rate"] == 1.2
    assert quote["targetAmount"] == pytest.approx((1000 - fee) * 1.2, abs=0.01)
    assert (quote["status"], quote["providedAmountType"], quote["profile"]) == (
        "PENDING",
        "SOURCE",
        fake.personal_profile_id,
    )
    by_target = await create_quote(
        client, user, fake.personal_profile_id, sourceAmount=None, targetAmount=500
    )
    assert by_target["providedAmountType"] == "TARGET"
    assert by_target["targetAmount"] == 500
    assert (by_target["sourceAmount"] - by_target["paymentOptions"][0]["fee"]["total"]) * 1.2 >= 500


async def test_quote_get_and_expiry(client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]) -> None:
    quote = await create_quote(client, user, fake.personal_profile_id)
    path = f"/v3/profiles/{fake.personal_profile_id}/quotes/{quote['id']}"
    assert (await client.get(path, headers=user)).json()["status"] == "PENDING"
    fake.clock.advance(31 * 60)
    assert (await client.get(path, headers=user)).json()["status"] == "EXPIRED"
    other_profile = f"/v3/profiles/{fake.business_profile_id}/quotes/{quote['id']}"
    assert (await client.get(other_profile, headers=user)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"sourceCurrency": "GBP", "targetCurrency": "EUR"},
        {"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": 10, "targetAmount": 10},
        {"sourceCurrency": "gbp", "targetCurrency": "EUR", "sourceAmount": 10},
        {"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": -5},
    ],
)
async def test_quote_validation(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str], body: dict[str, Any]
) -> None:
    response = await client.post(f"/v3/profiles/{fake.personal_profile_id}/quotes", headers=user, json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "NOT_VALID"


async def test_unauthenticated_quote(client: httpx.AsyncClient, fake: FakeWise) -> None:
    body = {"sourceCurrency": "GBP", "targetCurrency": "USD", "sourceAmount": 100}
    anonymous = await client.post("/v3/quotes", json=body)
    assert anonymous.status_code == 200
    assert "profile" not in anonymous.json()
    assert "user" not in anonymous.json()
    cc = fake.issue_client_token()["access_token"]
    assert (await client.post("/v3/quotes", json=body, headers=bearer(cc))).status_code == 200
    assert (await client.post("/v3/quotes", json=body, headers=bearer("bogus"))).status_code == 401


# --------------------------------------------------------------------------- recipients


async def test_recipient_create_and_get(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/accounts",
        headers=user,
        json={
            "currency": "GBP",
            "type": "sort_code",
            "profile": fake.personal_profile_id,
            "accountHolderName": "John Doe",
            "details": {"legalType": "PRIVATE", "sortCode": "040075", "accountNumber": "37778842"},
        },
    )
    created = response.json()
    assert created["type"] == "SortCode"
    assert created["accountSummary"] == "(04-00-75) 37778842"
    assert created["name"]["fullName"] == "John Doe"
    assert created["legalEntityType"] == "PERSON"
    assert created["country"] == "GB"
    assert "legalType" not in created["details"]
    fetched = await client.get(f"/v2/accounts/{created['id']}", headers=user)
    assert fetched.json() == created


async def test_recipient_validation_and_ownership(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    missing = await client.post("/v1/accounts", headers=user, json={"profile": fake.personal_profile_id})
    assert missing.status_code == 400
    other_user = fake.add_user()
    other_profile = fake.add_profile(user_id=other_user)["id"]
    other_token = fake.issue_user_token(user_id=other_user)["access_token"]
    theirs = await create_recipient(client, bearer(other_token), other_profile)
    assert (await client.get(f"/v2/accounts/{theirs['id']}", headers=user)).status_code == 404


async def test_recipient_list_seek_pagination(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    ids = [
        (await create_recipient(client, user, fake.personal_profile_id, name=f"R{i}"))["id"] for i in range(5)
    ]
    seen: list[int] = []
    seek: int | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"size": 2}
        if seek is not None:
            params["seekPosition"] = seek
        page = (await client.get("/v2/accounts", headers=user, params=params)).json()
        pages += 1
        seen += [r["id"] for r in page["content"]]
        seek = page["seekPositionForNext"]
        if seek is None:
            break
    assert (seen, pages) == (ids, 3)
    too_big = await client.get("/v2/accounts", headers=user, params={"size": 21})
    assert too_big.status_code == 400


async def test_recipient_deactivate_and_filters(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    keep = await create_recipient(client, user, fake.personal_profile_id, currency="EUR")
    gone = await create_recipient(client, user, fake.personal_profile_id, currency="GBP")
    business = await create_recipient(client, user, fake.business_profile_id)
    deleted = await client.delete(f"/v2/accounts/{gone['id']}", headers=user)
    assert deleted.json()["active"] is False

    async def ids(**params: Any) -> list[int]:
        response = await client.get("/v2/accounts", headers=user, params=params)
        return [r["id"] for r in response.json()["content"]]

    assert await ids() == [keep["id"], business["id"]]
    assert await ids(active="false") == [gone["id"]]
    assert await ids(profileId=fake.business_profile_id) == [business["id"]]
    assert await ids(currency="GBP", active="false") == [gone["id"]]


# --------------------------------------------------------------------------- transfers


async def test_transfer_create_get_list(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    body = await transfer_body(client, fake, user)
    created = (await client.post("/v1/transfers", headers=user, json=body)).json()
    assert created["status"] == "incoming_payment_waiting"
    assert created["customerTransactionId"] == body["customerTransactionId"]
    assert created["quoteUuid"] == body["quoteUuid"]
    assert created["reference"] == "Invoice 7"
    assert created["created"] == "2026-01-01 09:00:00"
    quote = fake.quotes.get(body["quoteUuid"])
    assert quote is not None
    assert quote["status"] == "ACCEPTED"
    assert created["sourceValue"] == quote["sourceAmount"]
    fetched = await client.get(f"/v1/transfers/{created['id']}", headers=user)
    assert fetched.json() == created
    assert (await client.get("/v1/transfers/1", headers=user)).status_code == 404


async def test_transfer_idempotency(client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]) -> None:
    body = await transfer_body(client, fake, user)
    first = await client.post("/v1/transfers", headers=user, json=body)
    replay = await client.post("/v1/transfers", headers=user, json=dict(reversed(list(body.items()))))
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert len(fake.transfers) == 1
    assert fake.counters["transfer_idempotent_replay"] == 1
    conflict = await client.post(
        "/v1/transfers", headers=user, json={**body, "details": {"reference": "other"}}
    )
    assert conflict.status_code == 409
    assert conflict.json()["errors"][0]["path"] == "customerTransactionId"
    assert len(fake.transfers) == 1


async def test_transfer_validation(client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]) -> None:
    body = await transfer_body(client, fake, user)
    cases = {
        "customerTransactionId": {**body, "customerTransactionId": "not-a-uuid"},
        "quoteUuid": {**body, "quoteUuid": str(uuid.uuid4())},
        "targetAccount": {**body, "targetAccount": 1},
    }
    for path, bad in cases.items():
        response = await client.post("/v1/transfers", headers=user, json=bad)
        assert response.status_code == 422, path
        assert response.json()["errors"][0]["path"] == path
    gbp = await create_recipient(client, user, fake.personal_profile_id, currency="GBP")
    mismatch = await client.post(
        "/v1/transfers",
        headers=user,
        json={**body, "targetAccount": gbp["id"], "customerTransactionId": str(uuid.uuid4())},
    )
    assert mismatch.json()["errors"][0]["code"] == "CURRENCY_MISMATCH"
    assert len(fake.transfers) == 0


async def test_transfer_list_offset_pagination(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    created = [(await create_transfer(client, fake, user))["id"] for _ in range(5)]
    seen: list[int] = []
    offset = 0
    while True:
        page = (await client.get("/v1/transfers", headers=user, params={"limit": 2, "offset": offset})).json()
        seen += [t["id"] for t in page]
        offset += len(page)
        if len(page) < 2:
            break
    assert seen == list(reversed(created))
    fake.set_transfer_status(created[0], "outgoing_payment_sent")
    sent = await client.get(
        "/v1/transfers", headers=user, params={"status": "outgoing_payment_sent,bounced_back"}
    )
    assert [t["id"] for t in sent.json()] == [created[0]]
    profile = await client.get("/v1/transfers", headers=user, params={"profile": fake.business_profile_id})
    assert profile.json() == []


async def test_transfer_cancel(client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]) -> None:
    transfer = await create_transfer(client, fake, user)
    cancelled = await client.put(f"/v1/transfers/{transfer['id']}/cancel", headers=user)
    assert cancelled.json()["status"] == "cancelled"
    again = await client.put(f"/v1/transfers/{transfer['id']}/cancel", headers=user)
    assert again.status_code == 409


# --------------------------------------------------------------------------- funding with SCA


async def test_fund_demands_sca_then_accepts_signature(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str], signing_key: rsa.RSAPrivateKey
) -> None:
    fake.register_sca_public_key(public_pem(signing_key))
    transfer = await create_transfer(client, fake, user)
    path = fund_path(fake, transfer["id"])

    challenge = await client.post(path, headers=user, json={"type": "BALANCE"})
    assert challenge.status_code == 403
    ott = challenge.headers["x-2fa-approval"]
    assert challenge.headers["x-2fa-approval-result"] == "REJECTED"
    assert ott == fake.last_ott
    assert fake.balance_movements == []

    approved = await client.post(
        path,
        headers={**user, "x-2fa-approval": ott, "X-Signature": sign(signing_key, ott)},
        json={"type": "BALANCE"},
    )
    assert approved.status_code == 200
    assert approved.json() == {"type": "BALANCE", "status": "COMPLETED", "errorCode": None}
    assert approved.headers["x-2fa-approval-result"] == "APPROVED"
    assert fake.balance(fake.personal_profile_id, "GBP") == Decimal("9900.00")
    assert [(m.amount, m.transfer_id) for m in fake.balance_movements] == [
        (Decimal("-100.00"), transfer["id"])
    ]
    stored = fake.transfers.get(transfer["id"])
    assert stored is not None
    assert stored["status"] == "processing"

    # The OTT was single use.
    replay = await client.post(
        path,
        headers={**user, "x-2fa-approval": ott, "X-Signature": sign(signing_key, ott)},
        json={"type": "BALANCE"},
    )
    assert replay.status_code == 403
    assert replay.headers["x-2fa-approval"] != ott


async def test_wrong_signature_is_rejected_again(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str], signing_key: rsa.RSAPrivateKey
) -> None:
    fake.register_sca_public_key(public_pem(signing_key))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    transfer = await create_transfer(client, fake, user)
    path = fund_path(fake, transfer["id"])
    ott = (await client.post(path, headers=user, json={"type": "BALANCE"})).headers["x-2fa-approval"]

    for signature in (sign(other_key, ott), "not base64!"):
        retry = await client.post(
            path, headers={**user, "x-2fa-approval": ott, "X-Signature": signature}, json={"type": "BALANCE"}
        )
        assert retry.status_code == 403
        assert retry.headers["x-2fa-approval-result"] == "REJECTED"
        assert retry.headers["x-2fa-approval"] != ott
        ott = retry.headers["x-2fa-approval"]
    assert fake.balance_movements == []
    assert fake.counters["sca_failures"] == 2


async def test_psd2_mode_refuses_signatures(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str], signing_key: rsa.RSAPrivateKey
) -> None:
    fake.register_sca_public_key(public_pem(signing_key))
    fake.sca_signature_allowed = False
    transfer = await create_transfer(client, fake, user)
    path = fund_path(fake, transfer["id"])
    ott = (await client.post(path, headers=user, json={"type": "BALANCE"})).headers["x-2fa-approval"]
    retry = await client.post(
        path,
        headers={**user, "x-2fa-approval": ott, "X-Signature": sign(signing_key, ott)},
        json={"type": "BALANCE"},
    )
    assert retry.status_code == 403
    assert retry.headers["x-2fa-approval-result"] == "REJECTED"


async def test_sca_over_api_with_pin(client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]) -> None:
    fake.set_pin("2468")
    transfer = await create_transfer(client, fake, user)
    path = fund_path(fake, transfer["id"])
    ott = (await client.post(path, headers=user, json={"type": "BALANCE"})).headers["x-2fa-approval"]
    ott_headers = {**user, "One-Time-Token": ott}

    status = (await client.get("/v1/one-time-token/status", headers=ott_headers)).json()
    properties = status["oneTimeTokenProperties"]
    assert properties["oneTimeToken"] == ott
    assert properties["actionType"] == "TRANSFER__FUND"
    assert properties["validity"] == 3600
    [challenge] = properties["challenges"]
    assert challenge["primaryChallenge"]["type"] == "PIN"
    assert (challenge["required"], challenge["passed"], challenge["alternatives"]) == (True, False, [])

    # Not cleared yet: the retry without signature is refused and a new OTT is handed out.
    early = await client.post(path, headers={**user, "x-2fa-approval": ott}, json={"type": "BALANCE"})
    assert early.status_code == 403

    verify_path = f"/v2/profiles/{fake.personal_profile_id}/pin/verify"
    wrong = await client.post(verify_path, headers=ott_headers, json={"pin": "0000"})
    assert wrong.status_code == 400
    right = await client.post(verify_path, headers=ott_headers, json={"pin": "2468"})
    assert right.status_code == 200
    assert right.json()["challenges"] == [{"primaryChallenge": {"type": "PIN"}, "passed": True}]
    status = (await client.get("/v1/identity/one-time-token/status", headers=ott_headers)).json()
    assert status["oneTimeTokenProperties"]["challenges"][0]["passed"] is True

    approved = await client.post(path, headers={**user, "x-2fa-approval": ott}, json={"type": "BALANCE"})
    assert approved.status_code == 200
    assert approved.json()["status"] == "COMPLETED"
    again = await client.post(path, headers={**user, "x-2fa-approval": ott}, json={"type": "BALANCE"})
    assert again.status_code == 403  # single use
    assert fake.counters["sca_passed:PIN"] == 1


async def test_sca_over_api_with_otp(client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]) -> None:
    fake.sca_challenges = ["SMS"]
    transfer = await create_transfer(client, fake, user)
    path = fund_path(fake, transfer["id"])
    ott = (await client.post(path, headers=user, json={"type": "BALANCE"})).headers["x-2fa-approval"]
    ott_headers = {**user, "One-Time-Token": ott}
    [challenge] = (await client.get("/v1/one-time-token/status", headers=ott_headers)).json()[
        "oneTimeTokenProperties"
    ]["challenges"]
    assert challenge["primaryChallenge"]["type"] == "SMS"
    assert [a["type"] for a in challenge["alternatives"]] == ["WHATSAPP", "VOICE"]

    not_triggered = await client.post(
        "/v1/one-time-token/sms/verify", headers=ott_headers, json={"otpCode": "111111"}
    )
    assert not_triggered.status_code == 400
    trigger = await client.post("/v1/one-time-token/whatsapp/trigger", headers=ott_headers)
    assert trigger.json()["obfuscatedPhoneNo"].endswith("0123")
    bad = await client.post(
        "/v1/one-time-token/whatsapp/verify", headers=ott_headers, json={"otpCode": "999999"}
    )
    assert bad.status_code == 400
    good = await client.post(
        "/v1/one-time-token/whatsapp/verify", headers=ott_headers, json={"otpCode": "111111"}
    )
    assert good.json()["oneTimeTokenProperties"]["challenges"][0]["passed"] is True
    no_pin_challenge = await client.post(
        "/v1/one-time-token/pin/verify", headers=ott_headers, json={"pin": "1234"}
    )
    assert no_pin_challenge.status_code == 400

    approved = await client.post(path, headers={**user, "x-2fa-approval": ott}, json={"type": "BALANCE"})
    assert approved.status_code == 200


async def test_ott_bound_to_request_and_user(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    first = await create_transfer(client, fake, user)
    second = await create_transfer(client, fake, user)
    ott = (await client.post(fund_path(fake, first["id"]), headers=user, json={"type": "BALANCE"})).headers[
        "x-2fa-approval"
    ]
    fake.approve_ott(ott)
    other_path = await client.post(
        fund_path(fake, second["id"]), headers={**user, "x-2fa-approval": ott}, json={"type": "BALANCE"}
    )
    assert other_path.status_code == 403
    other_user = bearer(fake.issue_user_token(user_id=fake.add_user())["access_token"])
    status = await client.get("/v1/one-time-token/status", headers={**other_user, "One-Time-Token": ott})
    assert status.status_code == 404


async def test_funding_twice_moves_money_once(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    transfer = await create_transfer(client, fake, user)
    path = fund_path(fake, transfer["id"])
    for _ in range(2):
        ott = (await client.post(path, headers=user, json={"type": "BALANCE"})).headers["x-2fa-approval"]
        fake.approve_ott(ott)
        response = await client.post(path, headers={**user, "x-2fa-approval": ott}, json={"type": "BALANCE"})
        assert response.json()["status"] == "COMPLETED"
    assert len(fake.balance_movements) == 1
    assert fake.counters["transfer_fund_replay"] == 1
    # Cancelling a funded transfer refunds it, once.
    await client.put(f"/v1/transfers/{transfer['id']}/cancel", headers=user)
    assert fake.balance(fake.personal_profile_id, "GBP") == Decimal("10000.00")


async def test_insufficient_funds(client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]) -> None:
    fake.sca_operations.clear()
    fake.set_balance(fake.personal_profile_id, "GBP", "5")
    transfer = await create_transfer(client, fake, user)
    response = await client.post(fund_path(fake, transfer["id"]), headers=user, json={"type": "BALANCE"})
    assert response.json() == {
        "type": "BALANCE",
        "status": "REJECTED",
        "errorCode": "transfer.insufficient_funds",
    }
    assert fake.balance_movements == []


async def test_failures_block_sca(client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]) -> None:
    transfer = await create_transfer(client, fake, user)
    path = fund_path(fake, transfer["id"])
    ott = (await client.post(path, headers=user, json={"type": "BALANCE"})).headers["x-2fa-approval"]
    verify_path = f"/v2/profiles/{fake.personal_profile_id}/pin/verify"
    for _ in range(5):
        response = await client.post(
            verify_path, headers={**user, "One-Time-Token": ott}, json={"pin": "0000"}
        )
        assert response.status_code == 400
    blocked = await client.post(verify_path, headers={**user, "One-Time-Token": ott}, json={"pin": "1234"})
    assert blocked.status_code == 403
    no_new_ott = await client.post(path, headers=user, json={"type": "BALANCE"})
    assert no_new_ott.status_code == 403
    assert "x-2fa-approval" not in no_new_ott.headers
    fake.clock.advance(15 * 60)
    assert "x-2fa-approval" in (await client.post(path, headers=user, json={"type": "BALANCE"})).headers


async def test_sca_empty_body_and_extra_operations(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    fake.sca_response_body = "empty"
    fake.sca_operations.add("profileList")
    response = await client.get("/v2/profiles", headers=user)
    assert (response.status_code, response.content) == (403, b"")
    assert response.headers["x-2fa-approval"]


async def test_jose_hook_seam(client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]) -> None:
    class Base64Jose:
        """Stand-in codec: 'encrypts' with base64 to prove the fake routes bodies through the hook."""

        def decode_request(self, request: FakeRequest) -> bytes:
            return base64.b64decode(request.body)

        def encode_response(self, request: FakeRequest, response: FakeResponse) -> FakeResponse:
            headers = {**response.headers, "content-type": "application/jose+json"}
            return FakeResponse(response.status, base64.b64encode(response.body), headers)

    fake.jose = Base64Jose()
    assert isinstance(fake.jose, testing.JoseHook)
    transfer = await create_transfer(client, fake, user)
    ott = (
        await client.post(fund_path(fake, transfer["id"]), headers=user, json={"type": "BALANCE"})
    ).headers["x-2fa-approval"]
    response = await client.post(
        f"/v2/profiles/{fake.personal_profile_id}/pin/verify",
        headers={**user, "One-Time-Token": ott, "Content-Type": "application/jose+json"},
        content=base64.b64encode(b'{"pin":"1234"}'),
    )
    assert response.headers["content-type"] == "application/jose+json"
    assert json.loads(base64.b64decode(response.content))["challenges"][0]["passed"] is True


async def test_jwe_body_without_hook_is_a_500(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    transfer = await create_transfer(client, fake, user)
    ott = (
        await client.post(fund_path(fake, transfer["id"]), headers=user, json={"type": "BALANCE"})
    ).headers["x-2fa-approval"]
    response = await client.post(
        "/v1/one-time-token/pin/verify",
        headers={**user, "One-Time-Token": ott, "Content-Type": "application/jose+json"},
        content=b"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..iv.ct.tag",
    )
    assert response.status_code == 500


# --------------------------------------------------------------------------- faults


async def test_rate_limit_fault(client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]) -> None:
    fake.faults.rate_limit(retry_after=3, path="/v2/profiles")
    fake.faults.add("rate_limit", path="/v2/profiles")
    limited = await client.get("/v2/profiles", headers=user)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3"
    assert limited.headers["x-rate-limited-by"]
    assert limited.content == b""
    assert "x-trace-id" in limited.headers
    bare = await client.get("/v2/profiles", headers=user)
    assert bare.status_code == 429
    assert "retry-after" not in bare.headers
    assert (await client.get("/v2/profiles", headers=user)).status_code == 200
    assert fake.counters["fault:rate_limit"] == 2
    assert fake.counters["profileList"] == 1  # faulted requests never reached the handler


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_error_faults(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str], status: int
) -> None:
    fake.faults.server_error(status, operation="profileList")
    response = await client.get("/v2/profiles", headers=user)
    assert response.status_code == status
    expected_type = "application/json" if status == 500 else "text/html"
    assert response.headers["content-type"] == expected_type
    assert (await client.get("/v2/profiles", headers=user)).status_code == 200


async def test_reset_before_commit_applies_nothing(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    body = await transfer_body(client, fake, user)
    fake.faults.add(path="/v1/transfers", method="POST", kind="reset_before_commit", times=1)
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await client.post("/v1/transfers", headers=user, json=body)
    assert caught.value.request.url.path == "/v1/transfers"
    assert len(fake.transfers) == 0
    assert (fake.requests[-1].status, fake.requests[-1].fault) == (None, "reset_before_commit")
    assert (await client.post("/v1/transfers", headers=user, json=body)).status_code == 200
    assert len(fake.transfers) == 1


async def test_reset_after_commit_applies_then_drops(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    body = await transfer_body(client, fake, user)
    fault = fake.faults.reset_after_commit(method="POST", path="/v1/transfers")
    with pytest.raises(httpx.ReadError):
        await client.post("/v1/transfers", headers=user, json=body)
    assert fault.fired == 1
    assert len(fake.transfers) == 1
    assert (fake.requests[-1].status, fake.requests[-1].fault) == (200, "reset_after_commit")
    retry = await client.post("/v1/transfers", headers=user, json=body)
    assert retry.status_code == 200
    assert len(fake.transfers) == 1
    assert retry.json()["id"] == next(iter(fake.transfers))


async def test_fault_matching_options(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    transfer = await create_transfer(client, fake, user)
    fake.faults.add("status", status=503, path="/v1/transfers/{transferId}", skip=1, times=None)
    fake.faults.add("reset_before_commit", host="api.wise.com", exception=httpx.RemoteProtocolError)
    assert (await client.get(f"/v1/transfers/{transfer['id']}", headers=user)).status_code == 200
    assert (await client.get(f"/v1/transfers/{transfer['id']}", headers=user)).status_code == 503
    assert (await client.get(f"/v1/transfers/{transfer['id']}", headers=user)).status_code == 503
    assert (await client.get("/v2/profiles", headers=user)).status_code == 200  # other host, other path
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("https://api.wise.com/v2/profiles", headers=user)
    assert len(fake.faults) == 1
    fake.faults.clear()
    assert (await client.get(f"/v1/transfers/{transfer['id']}", headers=user)).status_code == 200


async def test_global_fault_hits_oauth_too(client: httpx.AsyncClient, fake: FakeWise) -> None:
    fake.faults.server_error(502)
    assert (await token_call(client, grant_type="client_credentials")).status_code == 502
    assert fake.counters["oauth_token"] == 0
    assert (await token_call(client, grant_type="client_credentials")).status_code == 200


def test_fault_validation() -> None:
    with pytest.raises(ValueError):
        testing.Fault(kind="status")
    with pytest.raises(ValueError):
        testing.Fault(kind="explode")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- concurrency, trio, ASGI


async def test_fifty_concurrent_creates(
    client: httpx.AsyncClient, fake: FakeWise, user: dict[str, str]
) -> None:
    base = await transfer_body(client, fake, user)
    results: list[int] = []
    same: list[int] = []
    shared = {**base, "customerTransactionId": str(uuid.uuid4())}

    async def create(body: dict[str, Any], sink: list[int]) -> None:
        response = await client.post("/v1/transfers", headers=user, json=body)
        assert response.status_code == 200
        sink.append(response.json()["id"])

    quotes = [(await create_quote(client, user, fake.personal_profile_id))["id"] for _ in range(50)]
    async with anyio.create_task_group() as tg:
        for quote in quotes:  # one transfer per quote, as Wise allows
            body = {**base, "quoteUuid": quote, "customerTransactionId": str(uuid.uuid4())}
            tg.start_soon(create, body, results)
            tg.start_soon(create, shared, same)
    assert len(set(results)) == 50
    assert len(set(same)) == 1
    assert len(fake.transfers) == 51


def test_works_under_trio() -> None:
    fake = FakeWise()
    fake.add_client("c", "s")

    async def main() -> list[int]:
        async with httpx.AsyncClient(transport=fake.transport(), base_url=SANDBOX) as client:
            token = await client.post(
                "/oauth/token", auth=("c", "s"), data={"grant_type": "client_credentials"}
            )
            assert token.status_code == 200
            user = bearer(fake.issue_user_token()["access_token"])
            statuses: list[int] = []

            async def one() -> None:
                statuses.append((await client.get("/v2/profiles", headers=user)).status_code)

            async with trio.open_nursery() as nursery:
                for _ in range(20):
                    nursery.start_soon(one)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=fake.asgi_app), base_url=SANDBOX
        ) as asgi:
            statuses.append((await asgi.get("/v2/profiles", headers=user)).status_code)
        return statuses

    assert trio.run(main) == [200] * 21


async def test_asgi_app(fake: FakeWise, user: dict[str, str]) -> None:
    transport = httpx.ASGITransport(app=fake.asgi_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://twcard.wise-sandbox.com") as client:
        response = await client.get("/v2/profiles", headers={**user, "X-External-Correlation-Id": "abc"})
        assert response.status_code == 200
        assert response.headers["x-external-correlation-id"] == "abc"
        assert fake.requests[-1].host == "twcard.wise-sandbox.com"
        quote = await client.post(
            f"/v3/profiles/{fake.personal_profile_id}/quotes?a=b",
            headers=user,
            json={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": 10},
        )
        assert quote.status_code == 200
        assert fake.requests[-1].query == "a=b"
        fake.faults.reset_after_commit(operation="profileList")
        with pytest.raises(httpx.ReadError):
            await client.get("/v2/profiles", headers=user)


async def test_asgi_lifespan(fake: FakeWise) -> None:
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await fake.asgi_app({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_ids_and_secrets_are_reproducible() -> None:
    first, second = FakeWise(), FakeWise()
    assert first.issue_user_token() == second.issue_user_token()
    assert first.personal_profile_id == second.personal_profile_id
    assert FakeWise(seed=1).issue_user_token() != first.issue_user_token()


def test_clock() -> None:
    clock = testing.FakeClock(start=100.0)
    assert clock.now() == 100.0
    assert clock.advance(5) == 105.0
    with pytest.raises(ValueError):
        clock.advance(-1)
    fake = FakeWise(clock=clock)
    assert fake.clock is clock
