"""OpenTelemetry traces and metrics for every call, built on :mod:`wise_async`'s hooks.

``pip install 'wise-async[otel]'`` (``opentelemetry-api`` only: your application brings the SDK and the
exporters), then::

    from wise_async import WiseClient
    from wise_async.otel import OpenTelemetryHooks

    wise = WiseClient(..., hooks=[OpenTelemetryHooks()])

Each logical call is one span, ``wise <operationId>`` (``wise transferCreate``), under the caller's
current span (a FastAPI request instrumented with OpenTelemetry, say). Its children:

* one ``CLIENT`` span per HTTP attempt, named ``<METHOD> <path template>``, with the HTTP client
  semantic conventions (``http.request.method``, ``http.response.status_code``, ``server.address``,
  ``url.full`` redacted, ``url.template``, ``http.request.resend_count``, ``error.type``) and
  ``wise.operation_id``, ``wise.attempt``, ``wise.trace_id`` (Wise's ``x-trace-id``),
  ``wise.idempotency_key.hash``, ``wise.retry.reason`` (why it was sent again), ``wise.replay``
  (``token_refresh`` or ``sca``); a ``wise rate-limit queue`` child when the client's rate limiter held it
  (1 ms or more);
* ``wise token refresh`` (with ``wise token lease wait`` when another process held the refresh lease);
* ``wise sca challenge`` (the handler's work; the replay is the next attempt, ``wise.replay=sca``);
* ``wise jose encrypt`` / ``wise jose sign``.

Requests the SDK sends for the call (``/oauth/token``, SCA status and verify) are call spans of their
own inside it. A failed call's span has ERROR status and ``error.type``, the class of the typed error
the caller gets (``RateLimitError``); no exception message, token, OTT, signature, URL secret or body is
ever put on a span, an event or a metric attribute.

Metrics (instrument names; attributes in brackets): ``wise.client.call.duration`` (s) [operation,
``wise.outcome`` ok/error, ``error.type``]; ``http.client.request.duration`` (s) per attempt [HTTP
semantic conventions]; ``wise.client.retries`` [operation, ``wise.retry.reason``];
``wise.client.token.refreshes`` [reason, outcome]; ``wise.client.sca.challenges`` [operation, outcome];
``wise.client.rate_limit.wait`` (s) per attempt of a rate-limited client [operation].

Without an SDK (the API's no-op providers) the hooks do next to nothing: child spans are made only
under a recording call span.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from opentelemetry import context, metrics, trace
from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider, SpanKind, Status, StatusCode

from ._hooks import (
    AttemptInfo,
    CallInfo,
    CallOutcome,
    Hooks,
    JoseInfo,
    RefreshInfo,
    RetryInfo,
    ScaInfo,
)
from ._version import __version__

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

__all__ = ["OpenTelemetryHooks"]


def _idle_meter_providers() -> tuple[type, ...]:
    """The API's own meter providers, which record nothing: the no-op one, and the proxy that stands in
    for the global provider until an SDK is set (a private class; tests/test_hooks.py pins it)."""
    try:
        from opentelemetry.metrics._internal import _ProxyMeterProvider
    except ImportError:  # pragma: no cover - a later API moved it: then always observe
        return (metrics.NoOpMeterProvider,)
    return (metrics.NoOpMeterProvider, _ProxyMeterProvider)


_IDLE_TRACER_PROVIDERS = (ProxyTracerProvider, NoOpTracerProvider)
_IDLE_METER_PROVIDERS = _idle_meter_providers()

INSTRUMENTATION_NAME = "wise_async"
RECHECK_SECONDS = 1.0
"""How often ``enabled`` looks again at the global providers (an SDK configured later is used from then)."""
QUEUE_SPAN_MIN = 0.001
"""Seconds an attempt waits for the rate limiter before it gets a queue span (a free slot takes µs)."""


class _Call:
    """What the hooks keep for one call: its span, its context (made current for the call, so the calls
    the SDK makes for it nest under it), the last retry's reason."""

    __slots__ = ("context", "recording", "retry_reason", "span", "token")

    def __init__(self, span: Span) -> None:
        self.span = span
        self.recording = span.is_recording()
        self.retry_reason: str | None = None
        self.token: Any = None
        self.context: Any = None
        if span.get_span_context().is_valid:  # an SDK made it (sampled or not): children follow it
            self.context = trace.set_span_in_context(span)
            self.token = context.attach(self.context)


def _end_ns(start_time_ns: int, duration: float) -> int:
    return start_time_ns + int(duration * 1e9)


class OpenTelemetryHooks(Hooks):
    """Spans and metrics for every call of the clients given this hook (see the module docstring).

    ``tracer_provider`` / ``meter_provider`` default to the global ones (``trace.set_tracer_provider``).
    """

    def __init__(
        self, *, tracer_provider: TracerProvider | None = None, meter_provider: MeterProvider | None = None
    ) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._recording = False
        self._recheck_at = -1.0
        self._tracer = trace.get_tracer(INSTRUMENTATION_NAME, __version__, tracer_provider=tracer_provider)
        meter = metrics.get_meter(INSTRUMENTATION_NAME, __version__, meter_provider=meter_provider)
        self._call_duration = meter.create_histogram(
            "wise.client.call.duration", unit="s", description="Duration of Wise calls, retries included"
        )
        self._attempt_duration = meter.create_histogram(
            "http.client.request.duration", unit="s", description="Duration of HTTP client requests"
        )
        self._retries = meter.create_counter(
            "wise.client.retries", unit="{retry}", description="Attempts sent again, by reason"
        )
        self._refreshes = meter.create_counter(
            "wise.client.token.refreshes", unit="{refresh}", description="OAuth token refreshes"
        )
        self._sca = meter.create_counter(
            "wise.client.sca.challenges", unit="{challenge}", description="SCA challenges met"
        )
        self._rate_limit_wait = meter.create_histogram(
            "wise.client.rate_limit.wait", unit="s", description="Time attempts queued for the rate limiter"
        )

    def __repr__(self) -> str:
        return "OpenTelemetryHooks()"

    def enabled(self) -> bool:
        """False while both providers are the API's no-op ones (no SDK configured yet): the call then
        costs what it costs without hooks. The global providers are looked at again every
        ``RECHECK_SECONDS``, so an SDK configured after the client was made is used from then on."""
        now = time.monotonic()
        if now >= self._recheck_at:
            self._recording = self._providers_record()
            self._recheck_at = now + RECHECK_SECONDS
        return self._recording

    def _providers_record(self) -> bool:
        tracer_provider = self._tracer_provider or trace.get_tracer_provider()
        if not isinstance(tracer_provider, _IDLE_TRACER_PROVIDERS):
            return True
        meter_provider = self._meter_provider or metrics.get_meter_provider()
        return not isinstance(meter_provider, _IDLE_METER_PROVIDERS)

    def _of(self, call: CallInfo) -> _Call | None:
        state: _Call | None = call.data.get(self)
        return state

    def _child(self, state: _Call, name: str, start_ns: int, attributes: dict[str, Any]) -> Span:
        return self._tracer.start_span(
            name, context=state.context, start_time=start_ns, attributes=attributes
        )

    async def before_call(self, call: CallInfo) -> None:
        span = self._tracer.start_span(
            f"wise {call.operation_id}",
            start_time=call.start_time_ns,
            attributes={"wise.operation_id": call.operation_id},
        )
        call.data[self] = _Call(span)

    async def after_attempt(self, call: CallInfo, attempt: AttemptInfo) -> None:
        state = self._of(call)
        metric: dict[str, Any] = {
            "http.request.method": attempt.method,
            "server.address": attempt.host,
            "wise.operation_id": call.operation_id,
        }
        if attempt.status_code is not None:
            metric["http.response.status_code"] = attempt.status_code
        if attempt.error_type is not None:
            metric["error.type"] = attempt.error_type
        self._attempt_duration.record(attempt.duration, metric)
        if attempt.rate_limit_wait is not None:
            self._rate_limit_wait.record(attempt.rate_limit_wait, {"wise.operation_id": call.operation_id})
        if state is None or not state.recording:
            return
        attributes = dict(metric)
        attributes["url.full"] = attempt.url
        attributes["wise.attempt"] = attempt.number
        if attempt.port is not None:
            attributes["server.port"] = attempt.port
        if attempt.number > 1:
            attributes["http.request.resend_count"] = attempt.number - 1
        template = _template_of(call.operation_id)
        if template is not None:
            attributes["url.template"] = template
        optional = (
            ("wise.trace_id", attempt.trace_id),
            ("wise.correlation_id", attempt.correlation_id),
            ("wise.idempotency_key.hash", attempt.idempotency_key_hash),
            ("wise.replay", attempt.replay),
            ("wise.retry.reason", state.retry_reason),
            ("wise.rate_limit.wait_s", attempt.rate_limit_wait),
        )
        attributes.update((name, value) for name, value in optional if value is not None)
        state.retry_reason = None
        name = f"{attempt.method} {template}" if template is not None else attempt.method
        span = self._tracer.start_span(
            name,
            context=state.context,
            kind=SpanKind.CLIENT,
            start_time=attempt.start_time_ns,
            attributes=attributes,
        )
        if attempt.rate_limit_wait is not None and attempt.rate_limit_wait >= QUEUE_SPAN_MIN:
            queue = self._tracer.start_span(
                "wise rate-limit queue",
                context=trace.set_span_in_context(span),
                start_time=attempt.start_time_ns,
            )
            queue.end(_end_ns(attempt.start_time_ns, attempt.rate_limit_wait))
        if attempt.error_type is not None:
            span.set_status(Status(StatusCode.ERROR, attempt.error_type))
        elif attempt.status_code is not None and attempt.status_code >= 400:
            span.set_attribute("error.type", str(attempt.status_code))
            span.set_status(Status(StatusCode.ERROR))
        span.end(_end_ns(attempt.start_time_ns, attempt.duration))

    async def on_retry(self, call: CallInfo, retry: RetryInfo) -> None:
        self._retries.add(1, {"wise.operation_id": call.operation_id, "wise.retry.reason": retry.reason})
        state = self._of(call)
        if state is None or not state.recording:
            return
        state.retry_reason = retry.reason
        state.span.add_event(
            "wise.retry",
            {
                "wise.attempt": retry.attempt,
                "wise.retry.reason": retry.reason,
                "wise.retry.delay_s": retry.delay,
            },
        )

    async def on_refresh(self, call: CallInfo, refresh: RefreshInfo) -> None:
        attributes: dict[str, Any] = {
            "wise.token.refresh.reason": refresh.reason,
            "wise.token.refresh.outcome": refresh.outcome,
        }
        self._refreshes.add(1, attributes)
        state = self._of(call)
        if state is None or not state.recording:
            return
        if refresh.lease_wait:
            attributes["wise.token.lease_wait_s"] = refresh.lease_wait
        span = self._child(state, "wise token refresh", refresh.start_time_ns, attributes)
        if refresh.lease_wait:
            wait = self._tracer.start_span(
                "wise token lease wait",
                context=trace.set_span_in_context(span),
                start_time=refresh.start_time_ns,
            )
            wait.end(_end_ns(refresh.start_time_ns, refresh.lease_wait))
        _fail(span, refresh.error_type)
        span.end(_end_ns(refresh.start_time_ns, refresh.duration))

    async def on_sca(self, call: CallInfo, sca: ScaInfo) -> None:
        operation = sca.operation_id or call.operation_id
        self._sca.add(1, {"wise.operation_id": operation, "wise.sca.outcome": sca.outcome})
        state = self._of(call)
        if state is None or not state.recording:
            return
        attributes = {"wise.sca.handler": sca.handler, "wise.sca.outcome": sca.outcome}
        span = self._child(state, "wise sca challenge", sca.start_time_ns, attributes)
        _fail(span, sca.error_type)
        span.end(_end_ns(sca.start_time_ns, sca.duration))

    async def on_jose(self, call: CallInfo, jose: JoseInfo) -> None:
        state = self._of(call)
        if state is None or not state.recording:
            return
        name = "wise jose sign" if jose.method == "jws" else "wise jose encrypt"
        span = self._child(state, name, jose.start_time_ns, {"wise.jose.method": jose.method})
        span.end(_end_ns(jose.start_time_ns, jose.duration))

    async def after_call(self, call: CallInfo, outcome: CallOutcome) -> None:
        metric: dict[str, Any] = {
            "wise.operation_id": call.operation_id,
            "wise.outcome": "ok" if outcome.error_type is None else "error",
        }
        if outcome.error_type is not None:
            metric["error.type"] = outcome.error_type
        self._call_duration.record(outcome.duration, metric)
        state = call.data.pop(self, None)
        if state is None:
            return
        try:
            span = state.span
            if state.recording:
                span.set_attribute("wise.attempts", outcome.attempts)
                if outcome.status_code is not None:
                    span.set_attribute("http.response.status_code", outcome.status_code)
                if outcome.trace_id is not None:
                    span.set_attribute("wise.trace_id", outcome.trace_id)
                _fail(span, outcome.error_type)
            span.end(_end_ns(call.start_time_ns, outcome.duration))
        finally:
            if state.token is not None:
                context.detach(state.token)


def _fail(span: Span, error_type: str | None) -> None:
    """ERROR status named by the error's class: its message may quote Wise's body, so it stays out."""
    if error_type is not None:
        span.set_attribute("error.type", error_type)
        span.set_status(Status(StatusCode.ERROR, error_type))


def _template_of(operation_id: str) -> str | None:
    from ._operations import default_table

    try:
        return default_table().by_id(operation_id).path
    except KeyError:
        return None
