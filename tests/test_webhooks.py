"""Webhook verification (raw bytes, RSA-SHA256), parsing, typed data, de-duplication, ASGI helper."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_request import Receive, Scope, Send, StarletteLikeRequest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from wise_api.webhook_events import (
    EVENT_CLASSES,
    AccountDetailsPaymentStateChangeData,
    CardsManualProvisioningVerificationData,
    HoldLimitBreachUpdateData,
    TransfersActiveCasesData,
    TransfersStateChangeData,
)

from wise_async import webhooks
from wise_async._exceptions import ConfigurationError, WebhookVerificationError, WiseError
from wise_async.webhooks import (
    EVENT_DATA_MODELS,
    WISE_WEBHOOK_PUBLIC_KEYS,
    InMemoryWebhookDeduplicator,
    UnknownEventData,
    WebhookDeduplicator,
    WebhookEvent,
    WebhookPayloadError,
    construct_event,
    parse_webhook,
    verified_webhook,
    verify_webhook,
    webhook_dependency,
)

NORMALIZED_SPEC = Path(__file__).resolve().parents[1] / "openapi" / "index.normalized.json"

# --------------------------------------------------------------------------------------------------
# A test-side signer standing in for Wise


class Signer:
    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.spki_b64 = base64.b64encode(der).decode()
        self.pem = self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, body: bytes) -> str:
        return base64.b64encode(self.private.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


@pytest.fixture(scope="module")
def wise() -> Signer:
    return Signer()


@pytest.fixture(scope="module")
def impostor() -> Signer:
    return Signer()


def envelope(event_type: str, schema_version: str, data: dict[str, Any]) -> bytes:
    # Pretty-printed on purpose: whitespace is part of what is signed.
    return json.dumps(
        {
            "data": data,
            "subscription_id": "01234567-89ab-cdef-0123-456789abcdef",
            "event_type": event_type,
            "schema_version": schema_version,
            "sent_at": "2020-01-01T12:34:56.123Z",
        },
        indent=2,
    ).encode()


TRANSFER_STATE_CHANGE = envelope(
    "transfers#state-change",
    "2.0.0",
    {
        "resource": {"type": "transfer", "id": 111, "profile_id": 222, "account_id": 333},
        "current_state": "processing",
        "previous_state": "incoming_payment_waiting",
        "occurred_at": "2020-01-01T12:34:56Z",
    },
)


def headers_for(signer: Signer, body: bytes, **extra: str) -> dict[str, str]:
    return {"X-Signature-SHA256": signer.sign(body), "X-Delivery-Id": "d-1", **extra}


# --------------------------------------------------------------------------------------------------
# verify_webhook


def test_published_keys_load_as_rsa_2048() -> None:
    assert set(WISE_WEBHOOK_PUBLIC_KEYS) == {"production", "sandbox"}
    for keys in WISE_WEBHOOK_PUBLIC_KEYS.values():
        assert keys
        for material in keys:
            pem = f"-----BEGIN PUBLIC KEY-----\n{material}\n-----END PUBLIC KEY-----\n".encode()
            key = serialization.load_pem_public_key(pem)
            assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048


@pytest.mark.parametrize("form", ["spki_b64", "pem_bytes", "pem_str"])
def test_valid_signature_verifies(wise: Signer, form: str) -> None:
    forms: dict[str, str | bytes] = {
        "spki_b64": wise.spki_b64,
        "pem_bytes": wise.pem,
        "pem_str": wise.pem.decode(),
    }
    material = forms[form]
    verify_webhook(TRANSFER_STATE_CHANGE, wise.sign(TRANSFER_STATE_CHANGE), public_keys=[material])


def test_one_whitespace_byte_changed_fails(wise: Signer) -> None:
    signature = wise.sign(TRANSFER_STATE_CHANGE)
    altered = TRANSFER_STATE_CHANGE.replace(b"\n  ", b"\n   ", 1)
    assert len(altered) == len(TRANSFER_STATE_CHANGE) + 1
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_webhook(altered, signature, public_keys=[wise.spki_b64])
    compact = json.dumps(json.loads(TRANSFER_STATE_CHANGE)).encode()  # same JSON, re-serialised
    with pytest.raises(WebhookVerificationError):
        verify_webhook(compact, signature, public_keys=[wise.spki_b64])


def test_signature_from_another_key_fails(wise: Signer, impostor: Signer) -> None:
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_webhook(
            TRANSFER_STATE_CHANGE, impostor.sign(TRANSFER_STATE_CHANGE), public_keys=[wise.spki_b64]
        )


@pytest.mark.parametrize("environment", ["production", "sandbox"])
def test_published_keys_reject_our_signature(impostor: Signer, environment: Any) -> None:
    with pytest.raises(WebhookVerificationError, match=f"Wise's {environment} keys"):
        verify_webhook(TRANSFER_STATE_CHANGE, impostor.sign(TRANSFER_STATE_CHANGE), environment=environment)


def test_rotation_accepts_any_listed_key(wise: Signer, impostor: Signer) -> None:
    verify_webhook(
        TRANSFER_STATE_CHANGE,
        wise.sign(TRANSFER_STATE_CHANGE),
        public_keys=[impostor.spki_b64, wise.spki_b64],
    )


@pytest.mark.parametrize("signature", [None, "", "   "])
def test_missing_signature(wise: Signer, signature: str | None) -> None:
    with pytest.raises(WebhookVerificationError, match="missing X-Signature-SHA256"):
        verify_webhook(TRANSFER_STATE_CHANGE, signature, public_keys=[wise.spki_b64])


@pytest.mark.parametrize("signature", ["not base64!", "abc", "====", "ab$c"])
def test_bad_base64_signature(wise: Signer, signature: str) -> None:
    with pytest.raises(WebhookVerificationError, match=r"not valid base64|empty"):
        verify_webhook(TRANSFER_STATE_CHANGE, signature, public_keys=[wise.spki_b64])


def test_truncated_signature_fails(wise: Signer) -> None:
    signature = base64.b64encode(base64.b64decode(wise.sign(TRANSFER_STATE_CHANGE))[:-1]).decode()
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_webhook(TRANSFER_STATE_CHANGE, signature, public_keys=[wise.spki_b64])


def test_raw_body_must_be_bytes(wise: Signer) -> None:
    with pytest.raises(TypeError):
        verify_webhook(TRANSFER_STATE_CHANGE.decode(), "x", public_keys=[wise.spki_b64])  # type: ignore[arg-type]


def test_configuration_errors_are_loud(wise: Signer) -> None:
    with pytest.raises(ValueError, match="environment"):
        verify_webhook(b"{}", "x", environment="staging")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        verify_webhook(b"{}", "x", public_keys=[])
    with pytest.raises(ValueError):
        verify_webhook(b"{}", "x", public_keys=["not a key"])
    with pytest.raises(ConfigurationError):
        verify_webhook(b"{}", "x", public_keys=wise.spki_b64)


def test_error_is_a_wise_error() -> None:
    assert issubclass(WebhookVerificationError, WiseError)
    assert issubclass(WebhookPayloadError, WiseError)


# --------------------------------------------------------------------------------------------------
# construct_event / parse_webhook


def test_construct_event_verifies_then_parses(wise: Signer) -> None:
    headers = headers_for(wise, TRANSFER_STATE_CHANGE, **{"X-Test-Notification": "true"})
    event = construct_event(TRANSFER_STATE_CHANGE, headers, public_keys=[wise.spki_b64])
    assert event.event_type == "transfers#state-change"
    assert event.schema_version == "2.0.0"
    assert event.subscription_id == "01234567-89ab-cdef-0123-456789abcdef"
    assert event.sent_at == datetime(2020, 1, 1, 12, 34, 56, 123000, tzinfo=timezone.utc)
    assert event.delivery_id == "d-1"
    assert event.is_test is True
    assert event.raw == TRANSFER_STATE_CHANGE
    assert event.data["resource"]["id"] == 111
    assert "raw=" not in repr(event)


def test_verification_happens_before_parsing(wise: Signer, impostor: Signer) -> None:
    garbage = b"not json at all"
    with pytest.raises(WebhookVerificationError):
        construct_event(garbage, headers_for(impostor, garbage), public_keys=[wise.spki_b64])
    with pytest.raises(WebhookVerificationError, match="missing"):
        construct_event(garbage, {}, public_keys=[wise.spki_b64])
    with pytest.raises(WebhookPayloadError):
        construct_event(garbage, headers_for(wise, garbage), public_keys=[wise.spki_b64])


def test_headers_are_case_insensitive(wise: Signer) -> None:
    headers = {
        "x-signature-sha256": wise.sign(TRANSFER_STATE_CHANGE),
        "x-delivery-id": "d-2",
        "x-test-notification": "TRUE",
    }
    event = construct_event(TRANSFER_STATE_CHANGE, headers, public_keys=[wise.spki_b64])
    assert event.delivery_id == "d-2" and event.is_test
    assert (
        construct_event(
            TRANSFER_STATE_CHANGE, httpx.Headers(headers), public_keys=[wise.spki_b64]
        ).delivery_id
        == "d-2"
    )
    no_test = parse_webhook(TRANSFER_STATE_CHANGE, {})
    assert no_test.is_test is False and no_test.delivery_id is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "JSON object"),
        (b'{"data": {}, "sent_at": "2020-01-01T00:00:00Z"}', "event_type"),
        (b'{"event_type": "x", "data": {}}', "sent_at"),
        (b'{"event_type": "x", "sent_at": "yesterday", "data": {}}', "ISO 8601"),
        (b'{"event_type": "x", "sent_at": "2020-01-01T00:00:00Z", "data": []}', "data"),
    ],
)
def test_malformed_envelope(body: bytes, message: str) -> None:
    with pytest.raises(WebhookPayloadError, match=message):
        parse_webhook(body, {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-01T12:34:56.123Z", datetime(2020, 1, 1, 12, 34, 56, 123000, tzinfo=timezone.utc)),
        ("2026-03-09T05:52:37.274962Z", datetime(2026, 3, 9, 5, 52, 37, 274962, tzinfo=timezone.utc)),
        ("2026-03-09T05:52:37.274962123Z", datetime(2026, 3, 9, 5, 52, 37, 274962, tzinfo=timezone.utc)),
        ("2024-06-01T08:00:00Z", datetime(2024, 6, 1, 8, tzinfo=timezone.utc)),
        ("2024-06-01T08:00:00", datetime(2024, 6, 1, 8, tzinfo=timezone.utc)),
        ("2024-06-01T10:00:00+0200", datetime(2024, 6, 1, 10, tzinfo=timezone(timedelta(hours=2)))),
        (
            "2024-06-01T10:00:00-05:30",
            datetime(2024, 6, 1, 10, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
        ),
    ],
)
def test_sent_at_formats(text: str, expected: datetime) -> None:
    body = json.dumps({"event_type": "x", "sent_at": text, "data": {}}).encode()
    assert parse_webhook(body, {}).sent_at == expected


# --------------------------------------------------------------------------------------------------
# Typed data for the five spec events


def test_transfer_state_change_typed() -> None:
    for version in ("2.0.0", "4.0.0"):
        body = TRANSFER_STATE_CHANGE.replace(b'"2.0.0"', f'"{version}"'.encode())
        data = parse_webhook(body, {}).typed_data
        assert isinstance(data, TransfersStateChangeData)
        assert data.resource.id == 111 and data.resource.profile_id == 222 and data.resource.account_id == 333
        assert data.current_state == "processing" and data.previous_state == "incoming_payment_waiting"
        assert data.occurred_at == datetime(2020, 1, 1, 12, 34, 56, tzinfo=timezone.utc)


def test_transfer_state_change_null_previous_state() -> None:
    body = envelope("transfers#state-change", "4.0.0", {"resource": {"id": 1}, "previous_state": None})
    data = parse_webhook(body, {}).typed_data
    assert isinstance(data, TransfersStateChangeData)
    # payloads Wise sends read absent and null optional fields alike as None
    assert data.previous_state is None and data.current_state is None and data.resource.type_ is None


def test_transfer_active_cases_typed() -> None:
    body = envelope(
        "transfers#active-cases",
        "2.0.0",
        {
            "resource": {"type": "transfer", "id": 5, "profile_id": 6, "account_id": 7},
            "active_cases": ["deposit"],
        },
    )
    data = parse_webhook(body, {}).typed_data
    assert isinstance(data, TransfersActiveCasesData)
    assert data.active_cases == ["deposit"] and data.resource.id == 5


def test_account_details_payment_typed_with_exact_amount() -> None:
    body = envelope(
        "account-details-payment#state-change",
        "4.0.0",
        {
            "resource": {"id": 12345, "profile_id": 1, "type": "balance-account"},
            "account_details_id": "1",
            "target_account_id": "12345",
            "transfer": {"id": 36454, "type": "credit", "amount": 0.1, "currency": "EUR"},
            "sender": {
                "name": "Test Sender",
                "account_number": "12345678",
                "bank_code": "TESTBANK",
                "address": "A",
            },
            "current_state": "COMPLETED",
            "previous_state": "PROCESSING",
            "occurred_at": "2026-02-24T11:10:13.789Z",
        },
    ).replace(b"0.1,", b"120.10,")
    event = parse_webhook(body, {})
    data = event.typed_data
    assert isinstance(data, AccountDetailsPaymentStateChangeData)
    assert data.transfer.amount == Decimal("120.10") and str(data.transfer.amount) == "120.10"
    assert data.transfer.currency == "EUR" and data.sender.bank_code == "TESTBANK"
    assert data.resource.type_ == "balance-account" and data.current_state == "COMPLETED"
    assert event.data["transfer"]["amount"] == 120.1  # the generic view stays plain JSON


def test_card_manual_provisioning_typed() -> None:
    body = envelope(
        "cards#manual-provisioning-verification",
        "2.0.0",
        {
            "resource": {"profile_id": 9953556, "client_id": "c", "card_token": "72393ec3", "type": "card"},
            "payment_token_unique_reference": "DNITHE352605523102858206",
            "last_four_digits": "8237",
            "creation_time": "2026-03-09T05:52:37.274962Z",
            "wallet_name": "Google Pay",
        },
    )
    data = parse_webhook(body, {}).typed_data
    assert isinstance(data, CardsManualProvisioningVerificationData)
    assert data.resource.card_token == "72393ec3" and data.last_four_digits == "8237"
    assert data.creation_time == datetime(2026, 3, 9, 5, 52, 37, 274962, tzinfo=timezone.utc)


def test_hold_limit_breach_typed() -> None:
    body = envelope(
        "hold-limit-breach#update",
        "4.0.0",
        {
            "resource": {"type": "hold-limit-breach", "hold_limit_breach_id": 1001, "profile_id": 12321323},
            "amount": 500.5,
            "currency": "SGD",
            "state": "CLOSED",
            "closing_reason": "MANUALLY_RESOLVED",
            "created_at": "2024-06-01T08:00:00Z",
            "updated_at": "2024-06-02T09:15:00Z",
            "occurred_at": "2024-06-02T09:15:00Z",
        },
    )
    data = parse_webhook(body, {}).typed_data
    assert isinstance(data, HoldLimitBreachUpdateData)
    assert data.amount == Decimal("500.5") and data.state == "CLOSED"
    assert data.resource.hold_limit_breach_id == 1001 and data.closing_reason == "MANUALLY_RESOLVED"
    assert data.updated_at == datetime(2024, 6, 2, 9, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("event_type", "version"),
    [
        ("balances#credit", "2.0.0"),
        ("transfers#state-change", "9.0.0"),
        ("hold-limit-breach#update", "2.0.0"),
    ],
)
def test_unknown_events_fall_back_to_generic(event_type: str, version: str) -> None:
    event = parse_webhook(envelope(event_type, version, {"anything": [1, 2]}), {})
    data = event.typed_data
    assert isinstance(data, UnknownEventData)
    assert (
        data.event_type == event_type and data.schema_version == version and data.data == {"anything": [1, 2]}
    )


def test_typed_data_of_the_wrong_shape_is_a_payload_error() -> None:
    body = envelope(
        "hold-limit-breach#update",
        "4.0.0",
        {"resource": "oops", "amount": "abc", "created_at": 5, "state": True},
    )
    event = parse_webhook(body, {})
    assert event.data["resource"] == "oops"  # the generic view still works
    with pytest.raises(WebhookPayloadError, match=r"hold-limit-breach#update 4\.0\.0 data does not fit"):
        _ = event.typed_data


def test_fields_beyond_the_spec_stay_reachable() -> None:
    body = envelope("transfers#state-change", "4.0.0", {"current_state": "x", "brand_new": {"a": 1}})
    data = parse_webhook(body, {}).typed_data
    assert isinstance(data, TransfersStateChangeData)
    assert data.additional_properties == {"brand_new": {"a": 1}}


def test_the_event_table_is_the_specs_webhooks_section() -> None:
    spec = json.loads(NORMALIZED_SPEC.read_text(encoding="utf-8"))  # what `make generate` read
    expected = set()
    for event_type, item in spec["webhooks"].items():
        schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        refs = [b["$ref"] for b in schema.get("oneOf", [])] or [schema["$ref"]]
        for ref in refs:
            component = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
            expected |= {(event_type, v) for v in component["properties"]["schema_version"]["enum"]}
    assert set(EVENT_DATA_MODELS) == expected
    for (event_type, _), model in EVENT_DATA_MODELS.items():
        assert model.__module__.startswith("wise_api.models.")
        assert issubclass(model, EVENT_CLASSES[event_type])


def test_earlier_class_names_still_import_and_removed_ones_explain() -> None:
    from wise_async.webhooks import TransferStateChangeData as Old

    assert Old is TransfersStateChangeData
    with pytest.raises(AttributeError, match=r"generated models of wise_api\.webhook_events"):
        webhooks.TransferResource  # noqa: B018


# --------------------------------------------------------------------------------------------------
# De-duplication


async def test_in_memory_deduplicator() -> None:
    dedupe = InMemoryWebhookDeduplicator(max_size=2)
    assert isinstance(dedupe, WebhookDeduplicator)
    assert await dedupe.seen("a") is False
    assert await dedupe.seen("a") is True
    assert await dedupe.seen("b") is False
    assert await dedupe.seen("c") is False  # evicts "a", the least recently seen
    assert len(dedupe) == 2
    assert await dedupe.seen("a") is False
    await dedupe.forget("a")
    assert await dedupe.seen("a") is False
    with pytest.raises(ValueError):
        InMemoryWebhookDeduplicator(max_size=0)


# --------------------------------------------------------------------------------------------------
# Framework helper through a tiny pure-ASGI app (no FastAPI/Starlette installed)


def make_app(public_keys: list[str], dedupe: InMemoryWebhookDeduplicator) -> Callable[..., Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        status = 200
        payload: dict[str, Any]
        try:
            event = await verified_webhook(StarletteLikeRequest(scope, receive), public_keys=public_keys)
        except (WebhookVerificationError, WebhookPayloadError) as exc:
            status, payload = 400, {"error": str(exc)}
        else:
            duplicate = await dedupe.seen(event.delivery_id or "")
            payload = {"event_type": event.event_type, "duplicate": duplicate}
        body = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


async def test_asgi_app_accepts_valid_and_rejects_tampered(wise: Signer, impostor: Signer) -> None:
    app = make_app([wise.spki_b64], InMemoryWebhookDeduplicator())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hooks") as client:
        headers = headers_for(wise, TRANSFER_STATE_CHANGE)
        ok = await client.post("/wise", content=TRANSFER_STATE_CHANGE, headers=headers)
        assert ok.status_code == 200
        assert ok.json() == {"event_type": "transfers#state-change", "duplicate": False}
        again = await client.post("/wise", content=TRANSFER_STATE_CHANGE, headers=headers)
        assert again.json()["duplicate"] is True

        tampered = await client.post("/wise", content=TRANSFER_STATE_CHANGE + b" ", headers=headers)
        assert tampered.status_code == 400 and "does not match" in tampered.json()["error"]
        forged = await client.post(
            "/wise", content=TRANSFER_STATE_CHANGE, headers=headers_for(impostor, TRANSFER_STATE_CHANGE)
        )
        assert forged.status_code == 400
        unsigned = await client.post("/wise", content=TRANSFER_STATE_CHANGE)
        assert unsigned.status_code == 400 and "missing" in unsigned.json()["error"]


async def test_webhook_dependency_without_starlette(wise: Signer) -> None:
    class FakeRequest:
        headers = headers_for(wise, TRANSFER_STATE_CHANGE)

        async def body(self) -> bytes:
            return TRANSFER_STATE_CHANGE

    dependency = webhook_dependency(environment="sandbox", public_keys=[wise.spki_b64])
    event = await dependency(FakeRequest())
    assert isinstance(event, WebhookEvent) and event.delivery_id == "d-1"
    with pytest.raises(WebhookVerificationError):
        await webhook_dependency(environment="sandbox")(FakeRequest())


# --------------------------------------------------------------------------------------------------
# Logs


def test_logs_carry_no_signature_or_body(
    wise: Signer, impostor: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    signature = wise.sign(TRANSFER_STATE_CHANGE)
    construct_event(
        TRANSFER_STATE_CHANGE, headers_for(wise, TRANSFER_STATE_CHANGE), public_keys=[wise.spki_b64]
    )
    with pytest.raises(WebhookVerificationError) as info:
        verify_webhook(
            TRANSFER_STATE_CHANGE, impostor.sign(TRANSFER_STATE_CHANGE), public_keys=[wise.spki_b64]
        )
    assert caplog.records
    for text in (caplog.text, str(info.value)):
        assert signature[:24] not in text
        assert "incoming_payment_waiting" not in text
        assert wise.spki_b64[40:80] not in text
