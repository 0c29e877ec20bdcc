"""The example service with the OpenTelemetry FastAPI instrumentation, served over loopback: the SDK's call
span nests under the request's server span, its attempts under it, one trace from request to Wise."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from examples.fastapi_service import create_app
from examples.telemetry import tree_lines
from wise_async import WiseClient
from wise_async.otel import OpenTelemetryHooks
from wise_async.testing import FakeWise, serve_asgi

from .conftest import FIGURES


async def test_the_sdks_call_span_is_a_child_of_the_fastapi_request_span() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    fake = FakeWise()
    token = fake.add_personal_token()
    async with serve_asgi(fake.asgi_app) as wise_server:
        hooks = OpenTelemetryHooks(tracer_provider=provider)
        app = create_app(
            lambda: WiseClient(personal_token=token, base_url=wise_server.base_url, hooks=[hooks])
        )
        FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
        async with serve_asgi(app) as served, httpx.AsyncClient(base_url=served.base_url) as http:
            response = await http.get("/profiles")
    assert response.status_code == 200 and len(response.json()) == 2
    spans = exporter.get_finished_spans()
    (request,) = [span for span in spans if span.kind is SpanKind.SERVER]
    (call,) = [span for span in spans if span.name == "wise profileList"]
    (attempt,) = [span for span in spans if span.kind is SpanKind.CLIENT]
    assert request.name == "GET /profiles"
    assert call.parent is not None and call.parent.span_id == request.context.span_id
    assert call.context.trace_id == request.context.trace_id
    assert attempt.parent is not None and attempt.parent.span_id == call.context.span_id
    lines = tree_lines(list(spans))
    assert lines[0].startswith("GET /profiles ") and any(
        line.startswith("  wise profileList ") for line in lines
    )
    FIGURES.append(f"fastapi example traced: request span → wise profileList → {attempt.name} (one trace)")
    provider.shutdown()


def test_the_demo_prints_each_steps_trace_with_the_console_variable() -> None:
    """``WISE_OTEL_CONSOLE=tree make demo``: below each step, the tree of what the SDK did for it."""
    done = subprocess.run(
        [sys.executable, "-m", "examples.payout_demo"],
        env={**os.environ, "WISE_OTEL_CONSOLE": "tree"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = done.stdout
    transfer = out[out.index("│ demo transfer") : out.index("[ 6]")]
    attempts = [line for line in transfer.splitlines() if "POST /v1/transfers" in line]
    assert len(attempts) == 2 and "retry after" in attempts[1]
    keys = {re.search(r"key#([0-9a-f]{16})", line).group(1) for line in attempts}  # type: ignore[union-attr]
    assert len(keys) == 1
    assert re.search(r"│ {5}wise token refresh .* renewed", out)
    funding = out[out.index("│ demo funding") : out.index("[ 7]")]
    assert "wise sca challenge" in funding and "replay after sca" in funding
    assert "wise jose encrypt" in out
    assert "4396910000012345" not in out
    assert out.rstrip().splitlines()[-1].startswith("demo: 9 steps passed")
