"""Call hooks (``WiseClient(hooks=[...])``), in process against FakeWise: which events a call emits and
with what, that a failing hook never fails the call, and the OpenTelemetry hooks on the API's no-op
providers and on the SDK for the rate limiter's queue and the fleet-lease wait."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

import anyio
import pytest
import trio
from client.helpers import CLIENT_ID, new_fake, personal_client, user_client
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider

from wise_async import (
    AttemptInfo,
    CallInfo,
    CallOutcome,
    Hooks,
    InProcessRateLimiter,
    MemoryTokenStore,
    NotFoundError,
    OAuthTokens,
    RefreshInfo,
    TokenKey,
)
from wise_async.otel import OpenTelemetryHooks


class Recorder(Hooks):
    def __init__(self) -> None:
        self.events: list[tuple[str, str, Any]] = []

    async def before_call(self, call: CallInfo) -> None:
        self.events.append(("before_call", call.operation_id, call.parent))

    async def after_attempt(self, call: CallInfo, attempt: AttemptInfo) -> None:
        self.events.append(("after_attempt", call.operation_id, attempt))

    async def on_refresh(self, call: CallInfo, refresh: RefreshInfo) -> None:
        self.events.append(("on_refresh", call.operation_id, refresh))

    async def after_call(self, call: CallInfo, outcome: CallOutcome) -> None:
        self.events.append(("after_call", call.operation_id, outcome))


async def test_a_call_is_told_to_its_hooks_before_each_attempt_and_after() -> None:
    fake = new_fake()
    recorder = Recorder()
    async with personal_client(fake, hooks=[recorder]) as wise:
        await wise.profiles.list()
    assert [(event, operation) for event, operation, _ in recorder.events] == [
        ("before_call", "profileList"),
        ("after_attempt", "profileList"),
        ("after_call", "profileList"),
    ]
    attempt: AttemptInfo = recorder.events[1][2]
    assert (attempt.number, attempt.method, attempt.status_code, attempt.error_type) == (1, "GET", 200, None)
    assert attempt.url == "https://api.wise-sandbox.com/v2/profiles" and attempt.replay is None
    assert attempt.rate_limit_wait is None and attempt.trace_id and attempt.duration >= 0
    outcome: CallOutcome = recorder.events[2][2]
    assert (outcome.attempts, outcome.status_code, outcome.error_type, outcome.error) == (1, 200, None, None)


async def test_a_non_2xx_answer_is_told_as_the_typed_error_the_caller_gets() -> None:
    fake = new_fake()
    recorder = Recorder()
    async with personal_client(fake, hooks=[recorder]) as wise:
        with pytest.raises(NotFoundError):
            await wise.transfers.get(99999999)
    outcome: CallOutcome = recorder.events[-1][2]
    assert (outcome.status_code, outcome.error_type) == (404, "NotFoundError")


async def test_a_refresh_is_told_with_the_token_call_as_a_child_call() -> None:
    fake = new_fake()
    recorder = Recorder()
    async with user_client(fake, hooks=[recorder]) as wise:
        fake.revoke_token(wise.user_tokens.access_token)  # type: ignore[union-attr]
        await wise.profiles.list()
    told = [(event, operation) for event, operation, _ in recorder.events]
    assert told == [
        ("before_call", "profileList"),
        ("after_attempt", "profileList"),  # 401
        ("before_call", "oauthTokenCreate"),
        ("after_attempt", "oauthTokenCreate"),
        ("after_call", "oauthTokenCreate"),
        ("on_refresh", "profileList"),
        ("after_attempt", "profileList"),  # the replay
        ("after_call", "profileList"),
    ]
    token_call_parent = recorder.events[2][2]
    assert token_call_parent is not None and token_call_parent.operation_id == "profileList"
    refresh: RefreshInfo = recorder.events[5][2]
    assert (refresh.reason, refresh.outcome, refresh.error_type, refresh.lease_wait) == (
        "rejected",
        "renewed",
        None,
        0.0,
    )
    replay: AttemptInfo = recorder.events[6][2]
    assert (replay.number, replay.replay, replay.status_code) == (2, "token_refresh", 200)


class Broken(Hooks):
    async def before_call(self, call: CallInfo) -> None:
        raise RuntimeError("hook bug")

    async def after_call(self, call: CallInfo, outcome: CallOutcome) -> None:
        raise ValueError("another hook bug")


async def test_a_failing_hook_is_logged_and_never_fails_the_call(caplog: pytest.LogCaptureFixture) -> None:
    fake = new_fake()
    recorder = Recorder()
    async with personal_client(fake, hooks=[Broken(), recorder]) as wise:
        with caplog.at_level(logging.WARNING, logger="wise_async"):
            assert len(await wise.profiles.list()) == 2
    assert [event for event, _, _ in recorder.events] == ["before_call", "after_attempt", "after_call"]
    assert "hook Broken.before_call raised RuntimeError: hook bug" in caplog.text
    assert "hook Broken.after_call raised ValueError" in caplog.text


async def test_opentelemetry_hooks_on_the_no_op_providers_record_nothing_and_keep_nothing() -> None:
    fake = new_fake()
    hooks = OpenTelemetryHooks(tracer_provider=NoOpTracerProvider(), meter_provider=NoOpMeterProvider())
    kept: list[dict[Any, Any]] = []

    class Last(Hooks):
        async def after_call(self, call: CallInfo, outcome: CallOutcome) -> None:
            kept.append(dict(call.data))

    async with personal_client(fake, hooks=[hooks, Last()]) as wise:
        assert len(await wise.profiles.list()) == 2
    assert kept == [{}]  # the call's span and context token were let go


def _exporter() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_an_attempt_the_rate_limiter_held_has_a_queue_span_of_that_wait() -> None:
    fake = new_fake()
    provider, exporter = _exporter()
    limiter = InProcessRateLimiter(rate=20, burst=1)  # a slot every 50 ms
    async with personal_client(
        fake, hooks=[OpenTelemetryHooks(tracer_provider=provider)], rate_limiter=limiter
    ) as wise:
        await wise.profiles.list()
        await wise.profiles.list()
    attempts = [span for span in exporter.get_finished_spans() if span.name == "GET /v2/profiles"]
    waits = [span.attributes["wise.rate_limit.wait_s"] for span in attempts if span.attributes]
    assert len(waits) == 2 and waits[1] > 0.02
    (queue,) = [span for span in exporter.get_finished_spans() if span.name == "wise rate-limit queue"]
    assert queue.parent is not None and queue.parent.span_id == attempts[1].context.span_id
    assert queue.end_time is not None and queue.start_time is not None
    assert abs((queue.end_time - queue.start_time) / 1e9 - waits[1]) < 0.001


async def test_a_refresh_that_waited_for_another_processs_lease_shows_the_wait() -> None:
    fake = new_fake()
    store = MemoryTokenStore(clock=fake.clock.now)
    provider, exporter = _exporter()
    async with user_client(
        fake, token_store=store, user_key="user-1", hooks=[OpenTelemetryHooks(tracer_provider=provider)]
    ) as wise:
        assert await wise.profiles.list()
        key = TokenKey(CLIENT_ID, "user-1")
        lease = await store.try_lease(key)  # another process is refreshing...
        assert lease is not None
        fake.revoke_token(wise.user_tokens.access_token)  # type: ignore[union-attr]

        async def other_process_refreshes() -> None:
            async with lease:
                await anyio.sleep(0.05)
                issued = fake.issue_user_token(client_id=CLIENT_ID)
                await store.save(
                    key,
                    OAuthTokens(
                        issued["access_token"],
                        expires_at=fake.clock.now() + issued["expires_in"],
                        refresh_token=issued["refresh_token"],
                    ),
                )

        async with anyio.create_task_group() as group:
            group.start_soon(other_process_refreshes)
            assert await wise.profiles.list()
    (refresh,) = [span for span in exporter.get_finished_spans() if span.name == "wise token refresh"]
    assert refresh.attributes is not None
    assert refresh.attributes["wise.token.refresh.outcome"] == "adopted"
    assert refresh.attributes["wise.token.lease_wait_s"] > 0.02
    (wait,) = [span for span in exporter.get_finished_spans() if span.name == "wise token lease wait"]
    assert wait.parent is not None and wait.parent.span_id == refresh.context.span_id
    assert not [span for span in exporter.get_finished_spans() if span.name == "wise oauthTokenCreate"][1:]


_GLOBALS = """
import time
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from wise_async import otel

hooks = otel.OpenTelemetryHooks()
seen = [hooks.enabled()]
trace.set_tracer_provider(TracerProvider())
seen.append(hooks.enabled())  # looked at again only after RECHECK_SECONDS
hooks._recheck_at = time.monotonic()
seen.append(hooks.enabled())
no_traces = trace.NoOpTracerProvider()
metrics_only = otel.OpenTelemetryHooks(tracer_provider=no_traces, meter_provider=MeterProvider())
seen.append(metrics_only.enabled())
print(seen)
"""


def test_opentelemetry_hooks_are_off_until_an_sdk_provider_is_set() -> None:
    """Pins the API's stand-ins, the public ``ProxyTracerProvider`` and the private ``_ProxyMeterProvider``,
    that ``enabled`` takes for "no SDK": in a fresh interpreter, whose global providers are still those."""
    done = subprocess.run([sys.executable, "-c", _GLOBALS], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[False, False, True, True]"


def test_the_same_spans_under_trio() -> None:
    """The call's state rides a ContextVar, and OpenTelemetry's context too: trio tasks carry both."""
    provider, exporter = _exporter()

    async def main() -> None:
        fake = new_fake()
        async with user_client(fake, hooks=[OpenTelemetryHooks(tracer_provider=provider)]) as wise:
            fake.revoke_token(wise.user_tokens.access_token)  # type: ignore[union-attr]
            await wise.profiles.list()

    trio.run(main)
    spans = exporter.get_finished_spans()
    (call,) = [span for span in spans if span.name == "wise profileList"]
    children = sorted(
        (span for span in spans if span.parent is not None and span.parent.span_id == call.context.span_id),
        key=lambda span: span.start_time or 0,
    )
    assert [span.name for span in children] == [
        "GET /v2/profiles",
        "wise token refresh",
        "wise oauthTokenCreate",
        "GET /v2/profiles",
    ]
