"""Call every generated operation once through Prism and check request and response against the spec.

Each operation's ``asyncio_detailed`` gets arguments built from the spec (``arguments.py``); Prism
(``--errors``) rejects any request that violates the spec, and answers valid ones with the spec's
2xx example (or a value generated from the schema), which must parse into the declared type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from wise_api.operations import OPERATIONS

from wise_async._operations import OperationSpec

from .arguments import resolve, spec_operation
from .harness import call_operation, check_exchange

# The one place an operation may be left out, with why. An entry still runs, as a strict xfail:
# once the cause is fixed the test XPASSes, which fails the run until the entry is removed.
EXCLUDED: dict[str, str] = {}


def _operations() -> Iterator[Any]:
    for op in OPERATIONS:
        reason = EXCLUDED.get(op.operation_id)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        yield pytest.param(op, id=op.operation_id, marks=marks)


@pytest.mark.parametrize("op", list(_operations()))
async def test_operation(op: OperationSpec, prism_url: str) -> None:
    check_exchange(op, await call_operation(op, prism_url))


def _named_examples() -> Iterator[Any]:
    """(operation, example name) for 2xx responses with several named examples beyond the first."""
    for op in OPERATIONS:
        if op.operation_id in EXCLUDED:
            continue
        operation, _ = spec_operation(op.method, op.path)
        for code, response in operation["responses"].items():
            if not str(code).startswith("2"):
                continue
            for media in resolve(response).get("content", {}).values():
                names = list(media.get("examples") or {})
                for name in names[1:]:  # the first is what test_operation already got
                    value = resolve(media["examples"][name]).get("value")
                    yield pytest.param(op, code, name, value, id=f"{op.operation_id}-{code}-{name}")


@pytest.mark.parametrize(("op", "code", "name", "value"), list(_named_examples()))
async def test_named_response_example(
    op: OperationSpec, code: str, name: str, value: Any, prism_url: str
) -> None:
    response = await call_operation(op, prism_url, headers={"Prefer": f"code={code}, example={name}"})
    check_exchange(op, response)
    assert json.loads(response.content) == value, f"Prism did not serve example {name!r}"
