"""Spec-driven answers for every operation without a stateful route.

The pipeline renders ``wise_api.fake_answers`` from the spec (codegen/fake_answers.py): per operation
the required query parameters, integer path parameters, the request body's schema, and the answer (the
first 2xx status with a body from the spec's examples or built from its schema). Here that becomes one
route per operation: the request is checked against the operation (token kind, parameters, body
schema; a violation answers 400 the way Wise does), and the answer comes back with the path's ids
echoed into it. No state is kept: a new operation in a spec release works here the day it appears.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._http import FakeResponse, Rejection, errors_response, json_response
from ._jose_hook import is_jose, secure_response
from ._routing import Call, Route, Security
from ._schema import validate

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["bundle_paths", "spec_routes"]

_PDF = b"%PDF-1.4\n% FakeWise\n%%EOF\n"
_MAX_ERRORS = 5


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _same_kind(old: Any, new: str) -> Any:
    """``new`` shaped like ``old`` (an int id stays an int, a UUID stays a UUID); else ``old``."""
    if isinstance(old, bool):
        return old
    if isinstance(old, int):
        return int(new) if re.fullmatch(r"-?\d{1,18}", new) else old
    if isinstance(old, str):
        if _UUID.fullmatch(old):
            return new if _UUID.fullmatch(new) else old
        return new
    return old


def _echo_ids(answer: Any, params: Mapping[str, str], own_id: str | None) -> Any:
    """The answer with the request's path ids in the fields of the same name, and in ``id`` when the
    path ends in the resource's own id (``/transfers/{transferId}``)."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for name, value in params.items():
                if name in node:
                    node[name] = _same_kind(node[name], value)
            for child in node.values():
                visit(child)
        elif isinstance(node, list):
            for child in node:
                visit(child)

    echoed = copy.deepcopy(answer)
    visit(echoed)
    if own_id is not None and isinstance(echoed, dict) and "id" in echoed:
        echoed["id"] = _same_kind(echoed["id"], own_id)
    return echoed


def _reject(message: str, path: str | None = None) -> Rejection:
    return Rejection(errors_response(400, "NOT_VALID", message, path))


def _check_request(fake: FakeWise, call: Call, spec: Mapping[str, Any], schemas: Mapping[str, Any]) -> None:
    request = call.request
    for name in spec["path_ints"]:
        if name in call.params and not re.fullmatch(r"-?\d+", call.params[name]):
            raise _reject(f"Path parameter {name} must be an integer.", name)
    for name in spec["query_required"]:
        if request.param(name) is None:
            raise _reject(f"Query parameter {name} is required.", name)
    body = spec["body"]
    if body is None:
        return
    if not request.body:
        if body["required"]:
            raise _reject("Request body is required.")
        return
    if is_jose(request):
        if fake.jose is None and "application/jose+json" not in body["media_types"]:
            raise _reject("Unsupported content type.")
        raw = fake.jose.decode_request(request) if fake.jose is not None else request.body
    elif "json" in request.content_type:
        raw = request.body
    else:
        return  # multipart, form, binary: accepted as sent
    if body["schema"] is None:
        return
    try:
        data = json.loads(raw)
    except ValueError:
        raise _reject("Request body is not valid JSON.") from None
    problems = list(validate(data, body["schema"], schemas))
    if problems:
        first = problems[0]
        raise _reject("; ".join(problems[:_MAX_ERRORS]), first.split(" ", 1)[0])


def _respond(fake: FakeWise, call: Call, spec: Mapping[str, Any]) -> FakeResponse:
    status, media = spec["status"], spec["media_type"]
    if media is None or status == 204:
        return FakeResponse(status)
    last = re.search(r"\{([^}]+)\}$", call.route.template)
    answer = _echo_ids(spec["answer"], call.params, call.params.get(last.group(1)) if last else None)
    if "json" in media:
        response = json_response(status, answer)
        if media != "application/json":
            response.headers["content-type"] = media
        return secure_response(fake, call.request, response)
    if media == "application/pdf":
        body = answer.encode() if isinstance(answer, str) and answer.startswith("%PDF") else _PDF
    else:
        body = (answer if isinstance(answer, str) else "" if answer is None else json.dumps(answer)).encode()
    return FakeResponse(status, body, {"content-type": media})


def _security(words: list[str]) -> tuple[Security, ...]:
    known: tuple[Security, ...] = ("user", "client", "anonymous", "basic")
    return tuple(w for w in known if w in words) or ("user",)


@functools.cache
def bundle_paths() -> dict[str, str]:
    """operationId → its path in the bundle the client was generated from."""
    from wise_api.operations import OPERATIONS

    return {op.operation_id: op.path for op in OPERATIONS}


@functools.cache
def spec_routes(taken: frozenset[str]) -> tuple[Route, ...]:
    """One route per operation of the generated table whose operationId is not in ``taken``.

    Routes hold no state (the fake is passed to each call), so every FakeWise shares one table."""
    from wise_api.fake_answers import ANSWERS, SCHEMAS

    routes = []
    for operation_id, spec in sorted(ANSWERS.items()):
        if operation_id in taken:
            continue

        def handler(fake: FakeWise, call: Call, spec: Mapping[str, Any] = spec) -> FakeResponse:
            if "basic" in call.route.security and not call.request.headers.get(
                "authorization", ""
            ).lower().startswith("basic "):
                return errors_response(401, "UNAUTHORIZED", "Client credentials are required.")
            _check_request(fake, call, spec, SCHEMAS)
            return _respond(fake, call, spec)

        template = re.sub(r"\{([^}]+)\}", lambda m: "{" + re.sub(r"\W", "_", m.group(1)) + "}", spec["path"])
        routes.append(Route(spec["method"], template, operation_id, _security(spec["security"]), handler))
    return tuple(routes)
