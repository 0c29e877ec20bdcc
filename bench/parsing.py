"""Parsing cost per response: what the generated parser adds on top of decoding the JSON.

Every 2xx JSON example in the spec (the operations' own examples: quotes, transfers, recipients,
statements, activities, profiles ...) is answered to its operation's ``_parse_response`` as the facade
calls it: the body decoded by ``wire.loads`` (numbers as Decimal) and built into models by the
``from_dict`` the pipeline generated. The same bodies through plain ``json.loads`` are the baseline.
Figures are the fastest of several rounds of the whole set, in microseconds per response.
"""

from __future__ import annotations

import importlib
import json
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
NORMALIZED = ROOT / "openapi" / "index.normalized.json"
ROUNDS = 60


def _responses() -> list[tuple[Any, httpx.Response]]:
    from wise_api.operations import OPERATIONS

    spec = json.loads(NORMALIZED.read_text(encoding="utf-8"))
    found = []
    for op in OPERATIONS:
        operation = spec["paths"].get(op.path, {}).get(op.method.lower(), {})
        for code, response in operation.get("responses", {}).items():
            media = response.get("content", {}).get("application/json", {})
            if not code.startswith("2") or "schema" not in media:
                continue
            examples = [media["example"]] if "example" in media else []
            examples += [e["value"] for e in media.get("examples", {}).values() if "value" in e]
            module = importlib.import_module(op.module)
            for example in examples:
                content = json.dumps(example).encode()
                request = httpx.Request(op.method, "https://wise.test")
                found.append((module, httpx.Response(int(code), content=content, request=request)))
    return found


def _rounds(responses: list[tuple[Any, httpx.Response]]) -> tuple[float, float]:
    """Fastest round of each, µs per response; the two alternate so both see the same machine load."""
    plain, parsed = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _module, response in responses:
            json.loads(response.content)
        middle = time.perf_counter()
        for module, response in responses:
            module._parse_response(client=None, response=response)
        ended = time.perf_counter()
        plain.append((middle - started) / len(responses) * 1e6)
        parsed.append((ended - middle) / len(responses) * 1e6)
    return min(plain), min(parsed)  # the least disturbed rounds: the machine may be shared


def run() -> dict[str, Any]:
    responses = _responses()
    for module, response in responses:  # warm: models imported, caches filled
        module._parse_response(client=None, response=response)
    json_loads, parse = _rounds(responses)
    sizes = [len(r.content) for _, r in responses]
    return {
        "responses": len(responses),
        "median_body_bytes": int(statistics.median(sizes)),
        "json_loads_us": round(json_loads, 2),
        "parse_us": round(parse, 2),
        "ratio_to_json_loads": round(parse / json_loads, 2),
    }
