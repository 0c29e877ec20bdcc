"""Property: whatever arrives at a webhook endpoint, the helpers return an event or raise a ``WiseError``."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wise_async import WiseError
from wise_async.webhooks import EVENT_DATA_MODELS, construct_event, parse_webhook

from .test_every_answer import json_values

KNOWN = sorted(EVENT_DATA_MODELS)


@st.composite
def deliveries(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["envelope", "envelope", "json", "bytes", "deep"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "deep":
        return b'{"data": ' + b"[" * draw(st.integers(100, 20_000)) + b"}"
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    event_type, version = draw(st.sampled_from([*KNOWN, ("transfers#unheard-of", "9.9.9")]))
    envelope: dict[str, Any] = {
        "data": draw(json_values),
        "subscription_id": draw(st.sampled_from(["f2a7d1e0-0000-4000-8000-000000000000", 7, None])),
        "event_type": draw(st.sampled_from([event_type, None, 5])),
        "schema_version": draw(st.sampled_from([version, None, "x"])),
        "sent_at": draw(st.sampled_from(["2026-11-29T08:00:00Z", "yesterday", 12, None])),
    }
    for key in draw(st.lists(st.sampled_from(sorted(envelope)), max_size=2)):
        envelope.pop(key, None)
    return json.dumps(envelope).encode()


@settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(body=deliveries(), delivery_id=st.sampled_from(["", "abc", "3d6c2c7e-0000-4000-8000-000000000000"]))
def test_any_delivery_parses_to_an_event_or_a_wise_error(body: bytes, delivery_id: str) -> None:
    headers = {"X-Delivery-Id": delivery_id, "X-Signature-SHA256": "bm90IGEgc2lnbmF0dXJl"}
    try:
        event = parse_webhook(body, headers)
        repr(event)
        event.typed_data  # noqa: B018 - reading the typed view must not escape either
    except WiseError:
        pass
    try:
        construct_event(body, headers)
    except WiseError:
        return
    raise AssertionError("an unsigned delivery was accepted")
