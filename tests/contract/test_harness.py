"""The contract harness itself: Prism really rejects bad requests, and we really notice.

Also a regression check: UUID-typed header parameters (the idempotency key, the correlation id) go
out as text. openapi-python-client 0.29.1 passed the UUID object to httpx, which raises TypeError.
"""

from __future__ import annotations

import inspect
import typing
import uuid
from typing import Any

import httpx
import pytest
from wise_api.operations import OPERATIONS
from wise_api.types import Response

from wise_async._operations import OperationSpec

from .arguments import parameters, python_key, resolve, spec_operation, type_hints
from .harness import call_operation, check_exchange, violations


def _json_body_required(op: OperationSpec) -> bool:
    operation, _ = spec_operation(op.method, op.path)
    media = resolve(operation.get("requestBody", {})).get("content", {}).get("application/json", {})
    return bool(resolve(media.get("schema", {})).get("required"))


async def test_prism_reports_request_violations(prism_url: str) -> None:
    op = next(
        op
        for op in OPERATIONS
        if op.method == "POST" and "{" not in op.path and _json_body_required(op) and not op.allows_anonymous
    )
    async with httpx.AsyncClient(base_url=prism_url, headers={"Authorization": "Bearer test-token"}) as http:
        raw = await http.post(op.path, json={})
    response = Response(status_code=raw.status_code, content=raw.content, headers=raw.headers, parsed=None)
    side, messages = violations(response)
    assert side == "request", (raw.status_code, raw.headers, raw.content)
    assert any("required" in message for message in messages), messages


def _uuid_headers(op: OperationSpec) -> dict[str, bool]:
    """Python names of the operation's UUID-typed header parameters → whether each is required."""
    import importlib

    function = importlib.import_module(op.module).asyncio_detailed
    hints = type_hints(function)
    headers = {python_key(p["name"]) for p in parameters(op.method, op.path) if p["in"] == "header"}
    found: dict[str, bool] = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if python_key(name) in headers and uuid.UUID in (typing.get_args(hints[name]) or (hints[name],)):
            found[name] = parameter.default is inspect.Parameter.empty
    return found


def _uuid_header_cases() -> list[Any]:
    required = next((op for op in OPERATIONS if any(_uuid_headers(op).values())), None)
    optional = next(
        (op for op in OPERATIONS if not all(_uuid_headers(op).values()) and _uuid_headers(op)), None
    )
    cases = []
    if required is not None:
        cases.append(pytest.param(required, False, id=f"required-{required.operation_id}"))
    if optional is not None:
        cases.append(pytest.param(optional, True, id=f"optional-{optional.operation_id}"))
    return cases


@pytest.mark.parametrize(("op", "optional"), _uuid_header_cases())
async def test_uuid_header_parameters_are_serialized(
    op: OperationSpec, optional: bool, prism_url: str
) -> None:
    overrides = {name: uuid.uuid4() for name, required in _uuid_headers(op).items() if not required}
    response = await call_operation(op, prism_url, **(overrides if optional else {}))
    check_exchange(op, response)
