"""OpenTelemetry for the examples, on when ``WISE_OTEL_CONSOLE`` is set (``pip install 'wise-async[otel]'``
and the OpenTelemetry SDK):

* ``WISE_OTEL_CONSOLE=tree`` (or ``1``): each finished trace printed as an indented tree, one line a span;
* ``WISE_OTEL_CONSOLE=json``: the SDK's own console exporters (every span, and the metrics every 10 s).

``console_hooks()`` gives what to pass as ``WiseClient(hooks=...)`` (nothing when unset);
``instrument(app)`` adds the OpenTelemetry FastAPI instrumentation to an app, so each request is a span
and the SDK's calls nest under it. Your service would configure its own SDK and exporter instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import defaultdict
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from wise_async import Hooks

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

ENVIRONMENT_VARIABLE = "WISE_OTEL_CONSOLE"
# What a tree line shows of a span's attributes, in this order, under these short names.
SHOWN = (
    ("http.response.status_code", ""),
    ("error.type", "error="),
    ("wise.attempt", "attempt "),
    ("wise.retry.reason", "retry after "),
    ("wise.replay", "replay after "),
    ("wise.idempotency_key.hash", "key#"),
    ("wise.trace_id", "x-trace-id "),
    ("wise.token.refresh.outcome", ""),
    ("wise.sca.outcome", ""),
    ("wise.sca.handler", "by "),
    ("wise.jose.method", ""),
)
_configured: str | None = None


def mode() -> str | None:
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if value in ("", "0", "off", "false"):
        return None
    return "json" if value == "json" else "tree"


def console_hooks() -> list[Hooks]:
    """``[OpenTelemetryHooks()]`` on the global providers, set up for the console once; ``[]`` when off."""
    chosen = mode()
    if chosen is None:
        return []
    _configure(chosen)
    from wise_async.otel import OpenTelemetryHooks

    return [OpenTelemetryHooks()]


def instrument(app: Any) -> None:
    """Make every request to ``app`` a server span (when the console output is on)."""
    chosen = mode()
    if chosen is None:
        return
    _configure(chosen)
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app)


def traced(name: str) -> AbstractContextManager[Any]:
    """A span around a block (the demo's steps), so the calls in it print as one tree."""
    chosen = mode()
    if chosen is None:
        return contextlib.nullcontext()
    _configure(chosen)
    from opentelemetry import trace

    return trace.get_tracer("examples").start_as_current_span(name)


def _configure(chosen: str) -> None:
    global _configured
    if _configured is not None:
        return
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    tracer_provider = TracerProvider()
    if chosen == "json":
        tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        reader = PeriodicExportingMetricReader(ConsoleMetricExporter(), export_interval_millis=10_000)
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    else:
        tracer_provider.add_span_processor(tree_printer())
    trace.set_tracer_provider(tracer_provider)
    _configured = chosen


def _line(span: ReadableSpan, depth: int) -> str:
    attributes = span.attributes or {}
    took = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    said = [f"{prefix}{attributes[name]}" for name, prefix in SHOWN if attributes.get(name) is not None]
    return f"{'  ' * depth}{span.name}  {took:.1f} ms  {'  '.join(str(s) for s in said)}".rstrip()


def tree_lines(spans: list[ReadableSpan]) -> list[str]:
    """The spans of one trace as indented lines, children in start order under their parent."""
    ids = {span.context.span_id for span in spans}
    children: dict[int | None, list[ReadableSpan]] = defaultdict(list)
    for span in spans:
        parent = span.parent.span_id if span.parent is not None and span.parent.span_id in ids else None
        children[parent].append(span)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for span in sorted(children[parent], key=lambda s: s.start_time or 0):
            lines.append(_line(span, depth))
            walk(span.context.span_id, depth + 1)

    walk(None, 0)
    return lines


def tree_printer(out: Any = None) -> Any:
    """A span processor that prints a trace as a tree when its root span ends."""
    from opentelemetry.sdk.trace import SpanProcessor

    class TreePrinter(SpanProcessor):
        def __init__(self) -> None:
            self._traces: dict[int, list[ReadableSpan]] = defaultdict(list)

        def on_end(self, span: ReadableSpan) -> None:
            trace_id = span.context.trace_id
            self._traces[trace_id].append(span)
            if span.parent is None or span.parent.is_remote:
                lines = tree_lines(self._traces.pop(trace_id))
                print("\n".join(f"    │ {line}" for line in lines), file=out or sys.stdout, flush=True)

    return TreePrinter()
