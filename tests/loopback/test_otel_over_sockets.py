"""OpenTelemetry spans and metrics of real calls over a socket, read back with the SDK's in-memory exporter
and reader: what one payout's tree looks like, and that no secret of the redaction corpus reaches it."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from bundle_paths import path_of
from client.helpers import quote_and_recipient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from wise_api.models import TransferCreateBody, TransferFundBody

import wise_async._client
from wise_async import PrivateKeyScaSigner, ScaRequiredError
from wise_async._hooks import HookSet, hash_of
from wise_async.otel import OpenTelemetryHooks
from wise_async.testing import FakeWise

from . import test_secrets_over_sockets as corpus
from .conftest import CLIENT_SECRET, personal_client, user_client
from .servers import FaultProxy, close_after_headers
from .test_auth_over_sockets import _new_transfer


class Telemetry:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.hooks = OpenTelemetryHooks(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )

    @property
    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans if span.name == name]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        """Direct children, in start order."""
        found = [
            span
            for span in self.spans
            if span.parent is not None and span.parent.span_id == parent.context.span_id
        ]
        return sorted(found, key=lambda span: span.start_time or 0)

    def points(self, metric: str) -> list[tuple[dict[str, Any], Any]]:
        data = self.reader.get_metrics_data()
        return [
            (dict(point.attributes or {}), point)
            for resource in (data.resource_metrics if data else [])
            for scope in resource.scope_metrics
            for found in scope.metrics
            if found.name == metric
            for point in found.data.data_points
        ]


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    yield telemetry
    telemetry.tracer_provider.shutdown()
    telemetry.meter_provider.shutdown()


def _attempts(telemetry: Telemetry, call: ReadableSpan) -> list[ReadableSpan]:
    return [span for span in telemetry.children(call) if span.kind is SpanKind.CLIENT]


async def test_a_transfer_whose_answer_is_lost_is_one_call_span_with_two_attempts_of_one_key(
    fake: FakeWise, proxy: FaultProxy, telemetry: Telemetry
) -> None:
    async with personal_client(fake, proxy, hooks=[telemetry.hooks]) as wise:
        quote_id, recipient_id = await quote_and_recipient(wise, fake)
        proxy.add(close_after_headers(), method="POST", path_prefix=path_of("transferCreate"))
        key = str(uuid.uuid4())
        body = TransferCreateBody.from_dict(
            {"targetAccount": recipient_id, "quoteUuid": str(quote_id), "customerTransactionId": key}
        )
        transfer = await wise.transfers.create(body=body)
    assert len(fake.transfers) == 1 and transfer.id in fake.transfers

    (call,) = telemetry.named("wise transferCreate")
    first, second = _attempts(telemetry, call)
    assert call.status.status_code is StatusCode.UNSET
    assert call.attributes is not None and call.attributes["wise.attempts"] == 2
    assert first.name == second.name == f"POST {path_of('transferCreate')}"
    assert first.attributes is not None and second.attributes is not None
    assert first.attributes["wise.idempotency_key.hash"] == second.attributes["wise.idempotency_key.hash"]
    assert first.attributes["wise.idempotency_key.hash"] == hash_of(key)
    assert (
        first.status.status_code is StatusCode.ERROR and "http.response.status_code" not in first.attributes
    )
    reason = first.attributes["error.type"]
    assert second.attributes["wise.retry.reason"] == reason
    assert second.attributes["http.request.resend_count"] == 1
    assert second.attributes["http.response.status_code"] == 200
    assert second.attributes["wise.trace_id"]
    assert second.attributes["url.template"] == path_of("transferCreate")
    assert [event.name for event in call.events] == ["wise.retry"]
    assert key not in json.dumps([json.loads(span.to_json()) for span in telemetry.spans])
    retries = telemetry.points("wise.client.retries")
    assert [(labels, point.value) for labels, point in retries] == [
        ({"wise.operation_id": "transferCreate", "wise.retry.reason": reason}, 1)
    ]
    durations = {
        labels["wise.operation_id"]: labels for labels, _ in telemetry.points("wise.client.call.duration")
    }
    assert durations["transferCreate"] == {"wise.operation_id": "transferCreate", "wise.outcome": "ok"}
    print(
        f"\nlost answer: 1 call span, 2 attempt spans, key hash {hash_of(key)} on both, retry reason {reason}"
    )


async def test_a_401_shows_the_refresh_span_then_the_replay(
    fake: FakeWise, proxy: FaultProxy, telemetry: Telemetry
) -> None:
    async with user_client(fake, proxy, hooks=[telemetry.hooks]) as wise:
        fake.revoke_token(wise.user_tokens.access_token)  # type: ignore[union-attr]
        await wise.profiles.list()

    (call,) = telemetry.named("wise profileList")
    rejected, refresh, token_call, replay = telemetry.children(call)
    assert rejected.kind is SpanKind.CLIENT and rejected.attributes is not None
    assert rejected.attributes["http.response.status_code"] == 401
    assert refresh.name == "wise token refresh" and refresh.attributes is not None
    assert dict(refresh.attributes) == {
        "wise.token.refresh.reason": "rejected",
        "wise.token.refresh.outcome": "renewed",
    }
    assert token_call.name == "wise oauthTokenCreate"  # the /oauth/token call inside the refresh
    assert refresh.start_time is not None and token_call.start_time is not None
    assert refresh.end_time is not None and token_call.end_time is not None
    assert refresh.start_time <= token_call.start_time and token_call.end_time <= refresh.end_time
    assert [span.kind for span in telemetry.children(token_call)] == [SpanKind.CLIENT]
    assert replay.kind is SpanKind.CLIENT and replay.attributes is not None
    assert replay.attributes["wise.replay"] == "token_refresh"
    assert replay.attributes["http.response.status_code"] == 200
    assert call.status.status_code is StatusCode.UNSET
    refreshes = telemetry.points("wise.client.token.refreshes")
    assert [(labels, point.value) for labels, point in refreshes] == [
        ({"wise.token.refresh.reason": "rejected", "wise.token.refresh.outcome": "renewed"}, 1)
    ]


def _register(fake: FakeWise, key: rsa.RSAPrivateKey) -> None:
    fake.register_sca_public_key(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


async def test_an_sca_challenged_funding_shows_the_challenge_and_the_replay(
    fake: FakeWise, proxy: FaultProxy, rsa_key: rsa.RSAPrivateKey, telemetry: Telemetry
) -> None:
    _register(fake, rsa_key)
    async with personal_client(
        fake, proxy, sca_handler=PrivateKeyScaSigner(rsa_key), hooks=[telemetry.hooks]
    ) as wise:
        transfer_id = await _new_transfer(wise, fake)
        await wise.transfers.fund(
            fake.personal_profile_id, transfer_id, body=TransferFundBody(type_="BALANCE")
        )

    (call,) = telemetry.named("wise transferFund")
    challenged, sca, replay = telemetry.children(call)
    assert challenged.attributes is not None and challenged.attributes["http.response.status_code"] == 403
    assert sca.name == "wise sca challenge" and sca.attributes is not None
    assert dict(sca.attributes) == {"wise.sca.handler": "PrivateKeyScaSigner", "wise.sca.outcome": "approved"}
    assert replay.attributes is not None and replay.attributes["wise.replay"] == "sca"
    assert replay.attributes["http.response.status_code"] == 200
    assert call.status.status_code is StatusCode.UNSET
    challenges = telemetry.points("wise.client.sca.challenges")
    assert [(labels, point.value) for labels, point in challenges] == [
        ({"wise.operation_id": "transferFund", "wise.sca.outcome": "approved"}, 1)
    ]


async def test_an_sca_challenge_handed_to_the_app_is_an_error_span_named_by_the_typed_error(
    fake: FakeWise, proxy: FaultProxy, telemetry: Telemetry
) -> None:
    async with personal_client(fake, proxy, hooks=[telemetry.hooks]) as wise:
        transfer_id = await _new_transfer(wise, fake)
        with pytest.raises(ScaRequiredError):
            await wise.transfers.fund(
                fake.personal_profile_id, transfer_id, body=TransferFundBody(type_="BALANCE")
            )

    (call,) = telemetry.named("wise transferFund")
    assert call.status.status_code is StatusCode.ERROR
    assert call.status.description == "ScaRequiredError"
    assert call.attributes is not None and call.attributes["error.type"] == "ScaRequiredError"
    names = [span.name for span in telemetry.children(call)]
    # the handler's OTT status call runs inside the challenge
    assert names == [f"POST {path_of('transferFund')}", "wise sca challenge", "wise ottStatusGet"]
    (sca,) = telemetry.named("wise sca challenge")
    assert sca.attributes is not None and sca.attributes["wise.sca.outcome"] == "required"
    durations = [labels for labels, _ in telemetry.points("wise.client.call.duration")]
    assert {
        "wise.operation_id": "transferFund",
        "wise.outcome": "error",
        "error.type": "ScaRequiredError",
    } in durations


# --------------------------------------------------------------------------------------------------
# the redaction corpus over every exported span, event, attribute and metric label


def _wire_secrets(proxy: FaultProxy) -> list[str]:
    """Every credential that crossed the wire: header credentials, secret form and JSON body values,
    and each request body whole."""
    found: list[str] = []
    for exchange in proxy.exchanges:
        headers = {name.lower(): value for name, value in exchange.headers.items()}
        authorization = headers.get("authorization", "")
        found.append(authorization.partition(" ")[2])
        found += [headers.get(name, "") for name in ("x-signature", "x-2fa-approval", "one-time-token")]
        body = exchange.body.decode("utf-8", "replace")
        if len(body) >= 16:
            found.append(body)
        form = urllib.parse.parse_qs(body)
        found += [v for key in ("refresh_token", "code", "client_secret") for v in form.get(key, [])]
    return [secret for secret in found if len(secret) >= 3]


async def test_no_secret_of_the_redaction_corpus_reaches_a_span_an_event_or_a_metric_label(
    fake: FakeWise,
    proxy: FaultProxy,
    rsa_key: rsa.RSAPrivateKey,
    caplog: pytest.LogCaptureFixture,
    telemetry: Telemetry,
    monkeypatch: pytest.MonkeyPatch,
    http_backend: str,
) -> None:
    """The flows of the logging corpus (refresh, SCA signing, card details over JOSE, refused refresh and
    code exchange echoing their secrets, the default SCA error, a password in the base URL), each client
    they make carrying the OpenTelemetry hooks."""
    monkeypatch.setattr(
        wise_async._client.HookSet, "of", staticmethod(lambda hooks: HookSet([telemetry.hooks]))
    )
    await corpus.test_no_secret_in_any_log_line_error_or_repr_over_a_real_socket(
        fake, proxy, rsa_key, caplog, http_backend
    )

    spans = telemetry.spans
    names = {span.name for span in spans}
    assert {"wise token refresh", "wise sca challenge", "wise jose encrypt", "wise oauthTokenCreate"} <= names
    exported = [span.to_json() for span in spans]
    data = telemetry.reader.get_metrics_data()
    labels = [
        json.dumps(dict(point.attributes or {}))
        for resource in (data.resource_metrics if data else [])
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
    ]
    secrets = [corpus.PAN, corpus.CVV, corpus.CARD_PIN, corpus.AUTH_CODE, corpus.URL_PASSWORD, CLIENT_SECRET]
    secrets += _wire_secrets(proxy)
    leaks = corpus.leaks_of(secrets, exported + labels)
    print(
        f"\nOpenTelemetry over the redaction corpus: {len(spans)} spans, {len(labels)} metric points, "
        f"{len(set(secrets))} secrets, {len(leaks)} leaks"
    )
    assert not leaks, leaks[:5]
