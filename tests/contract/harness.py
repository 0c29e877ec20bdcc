"""Call one generated operation through Prism and judge the exchange against the spec.

``call_operation`` builds the arguments from the spec (``arguments.py``) and calls the operation's
generated ``asyncio_detailed``; ``check_exchange`` asserts that Prism found no request violation,
that the spec's own response passed its schema, and that the parsed 2xx body is an instance of the
operation's declared success type (the ``response=`` column of the generated surface lock).
"""

from __future__ import annotations

import base64
import datetime
import importlib
import json
import types
import typing
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import wise_api
import wise_api.models
from type_codes import members
from wise_api.client import AuthenticatedClient, Client
from wise_api.types import File, Response

from wise_async._operations import OperationSpec

from .arguments import build_call, spec_operation

# Prism names the part of the exchange a violation is in; these are the request's parts.
REQUEST_LOCATIONS = ("request", "body", "query", "header", "path")
SURFACE_LOCK = Path(wise_api.__file__).resolve().parent / "surface.lock"
# Prism 5.16 never answers a request whose JSON-typed body does not parse: fail fast instead.
TIMEOUT = httpx.Timeout(10.0)


class _Names(Mapping[str, Any]):
    """Names in a surface-lock type string, resolved to generated models on demand."""

    builtins: typing.ClassVar[dict[str, Any]] = {
        "list": list,
        "dict": dict,
        "str": str,
        "int": int,
        "float": float,
        "bool": bool,
        "Any": Any,
        "Decimal": Decimal,
        "UUID": UUID,
        "datetime": datetime,
        "File": File,
    }

    def __getitem__(self, name: str) -> Any:
        if name in self.builtins:
            return self.builtins[name]
        try:
            return getattr(wise_api.models, name)
        except AttributeError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.builtins)

    def __len__(self) -> int:
        return len(self.builtins)


def _success_types() -> dict[str, list[Any]]:
    """operationId → the 2xx types the generator declared (``response=`` in the surface lock)."""
    found: dict[str, list[Any]] = {}
    for line in SURFACE_LOCK.read_text(encoding="utf-8").splitlines():
        if not line.startswith("op ") or " response=" not in line:
            continue
        operation_id = line[3:].split(":", 1)[0]
        declared = line.rsplit(" response=", 1)[1].split(" ", 1)[0]
        names = [] if declared == "-" else members(declared, ",")
        found[operation_id] = [eval(name, {"__builtins__": {}}, _Names()) for name in names]
    return found


SUCCESS_TYPES = _success_types()
JSON_BODY = dict[str, Any] | list[Any] | None  # what a success without a schema returns


def matches(value: Any, kind: Any) -> bool:
    """``isinstance`` for the generated type expressions (unions, ``list[Model]`` with items checked)."""
    if kind is Any:
        return True
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        return any(matches(value, member) for member in typing.get_args(kind))
    if typing.get_origin(kind) is list:
        (item,) = typing.get_args(kind)
        return isinstance(value, list) and bool(value) and all(matches(v, item) for v in value)
    if typing.get_origin(kind) is dict:
        _, item = typing.get_args(kind)
        return isinstance(value, dict) and all(matches(v, item) for v in value.values())
    return isinstance(value, kind)


def make_client(
    op: OperationSpec, base_url: str, headers: dict[str, str] | None = None
) -> Client | AuthenticatedClient:
    """The client the operation's security asks for, asking Prism for its first 2xx response.

    Every operation goes to ``base_url``, including those with their own ``servers`` (the twcard host):
    the generated functions emit paths relative to the client's base URL.
    """
    success = sorted(
        code for code in spec_operation(op.method, op.path)[0]["responses"] if code.startswith("2")
    )
    common: dict[str, Any] = {
        "base_url": base_url,
        "headers": {**({"Prefer": f"code={success[0]}"} if success else {}), **(headers or {})},
        "timeout": TIMEOUT,
        "verify_ssl": False,  # plain http on loopback; skips loading a CA bundle per client
        "raise_on_unexpected_status": False,  # Prism's error answers are inspected, not raised
    }
    if op.allows_anonymous:
        return Client(**common)
    if op.uses_basic_auth:
        token = base64.b64encode(b"contract-client-id:contract-client-secret").decode()
        return AuthenticatedClient(token=token, prefix="Basic", **common)
    return AuthenticatedClient(token="test-token", **common)


async def call_operation(
    op: OperationSpec,
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    **overrides: Any,
) -> Response[Any]:
    """Call the operation's generated ``asyncio_detailed`` with arguments built from the spec.

    ``headers`` go on the client (e.g. ``Prefer``); ``overrides`` replace generated arguments.
    """
    module = importlib.import_module(op.module)
    client = make_client(op, base_url, headers)
    call = build_call(module.asyncio_detailed, op.method, op.path, client)
    async with client:
        response: Response[Any] = await module.asyncio_detailed(*call.args, **{**call.kwargs, **overrides})
    return response


def violations(response: Response[Any]) -> tuple[str, list[str]]:
    """Prism's verdict: ("request" | "response" | "", the violation messages).

    Prism lists violations in an ``sl-violations`` header (when it answers with a response the spec
    declares, e.g. a 400) and in the ``validation`` member of the problem document it generates.
    """
    found: list[dict[str, Any]] = []
    header = response.headers.get("sl-violations")
    if header:
        found += json.loads(header)
    try:
        problem = json.loads(response.content)
    except ValueError:
        problem = None
    if isinstance(problem, dict) and isinstance(problem.get("validation"), list):
        found += [v for v in problem["validation"] if v not in found]
    request = [v for v in found if str((v.get("location") or [""])[0]) in REQUEST_LOCATIONS]
    side = "request" if request else ("response" if found else "")
    messages = [f"{'.'.join(map(str, v.get('location', [])))}: {v.get('message')}" for v in found]
    if not messages and isinstance(problem, dict) and problem.get("title"):
        messages = [f"{problem.get('title')}: {problem.get('detail')}"]
    return side, messages


def check_exchange(op: OperationSpec, response: Response[Any]) -> None:
    side, messages = violations(response)
    listing = "\n".join(messages)
    assert side != "request", f"{op.operation_id}: Prism rejected the request:\n{listing}"
    assert side != "response", f"{op.operation_id}: the spec's own response fails its schema:\n{listing}"
    assert 200 <= response.status_code < 300, (
        f"{op.operation_id}: HTTP {response.status_code} {messages or response.content[:500]!r}"
    )
    declared = SUCCESS_TYPES[op.operation_id]
    if not declared:
        return  # no 2xx declared at all
    if not response.content.strip():
        # no content: only a success without a schema may say so (None), never a typed model
        assert response.parsed is None and declared == [JSON_BODY], f"{op.operation_id}: empty 2xx body"
        return
    assert response.parsed is not None, f"{op.operation_id}: the 2xx body was not parsed"
    if declared == [JSON_BODY]:  # no schema: the decoded JSON, exactly
        assert response.parsed == json.loads(response.content, parse_float=Decimal), op.operation_id
        return
    assert any(matches(response.parsed, kind) for kind in declared), (
        f"{op.operation_id}: parsed {type(response.parsed).__name__} is none of {declared}"
    )
