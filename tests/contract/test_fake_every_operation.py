"""FakeWise answers every operation: each generated operation, called with arguments built from the spec
over a real loopback socket (uvicorn), reaches its own route; the spec-driven ones answer 2xx with a
body that parses into the declared type, as Prism's would.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from wise_api.client import AuthenticatedClient
from wise_api.fake_answers import ANSWERS
from wise_api.operations import OPERATIONS

from wise_async._operations import OperationSpec
from wise_async.testing import FakeWise, serve_asgi

from .arguments import build_call
from .harness import check_exchange, make_client

NO_ROUTE = "No route in FakeWise"


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeWise, str, dict[str, str]]]:
    fake = FakeWise()
    fake.add_client("contract-client-id", "contract-client-secret")
    tokens = {
        "user": fake.add_personal_token("contract-user-token"),
        "client": fake.issue_client_token("contract-client-id")["access_token"],
    }
    async with serve_asgi(fake.asgi_app) as server:
        yield fake, server.base_url, tokens


async def call(op: OperationSpec, base_url: str, tokens: dict[str, str]) -> Any:
    module = importlib.import_module(op.module)
    client = make_client(op, base_url)
    if isinstance(client, AuthenticatedClient) and not op.uses_basic_auth:
        client.token = tokens["client" if op.client_credentials_only else "user"]
    arguments = build_call(module.asyncio_detailed, op.method, op.path, client)
    async with client:
        return await module.asyncio_detailed(*arguments.args, **arguments.kwargs)


async def test_every_operation_reaches_its_route_and_spec_driven_ones_parse(
    served: tuple[FakeWise, str, dict[str, str]],
) -> None:
    fake, base_url, tokens = served
    failures = []
    for op in OPERATIONS:
        try:
            response = await call(op, base_url, tokens)
        except Exception as exc:  # a body the generated parser cannot read
            failures.append(f"{op.operation_id}: {type(exc).__name__}: {exc}")
            continue
        if response.status_code == 404 and NO_ROUTE.encode() in response.content:
            failures.append(f"{op.operation_id}: no route")
            continue
        if not fake.calls(op.operation_id):
            failures.append(f"{op.operation_id}: routed to another operation")
            continue
        if op.operation_id in fake.stateful_operations:
            continue  # answered by its stateful route, which judges spec-shaped arguments itself
        try:
            check_exchange(op, response)
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0])
    assert not failures, "\n".join(failures)
    assert len(OPERATIONS) == len(fake.answered()) == sum(fake.answered().values())


def spec_driven(predicate: Any) -> tuple[str, dict[str, Any]]:
    stateful = FakeWise().stateful_operations
    return next((k, v) for k, v in sorted(ANSWERS.items()) if k not in stateful and predicate(v))


async def test_a_body_that_breaks_the_operations_schema_is_refused_like_wise() -> None:
    operation_id, spec = spec_driven(
        lambda a: (
            a["body"]
            and a["body"]["required"]
            and not a["path_ints"]
            and "user" in a["security"]
            and (a["body"]["schema"] or {}).get("required")
        )
    )
    fake = FakeWise()
    token = fake.add_personal_token()
    path = spec["path"].replace("{", "").replace("}", "")
    async with httpx.AsyncClient(transport=fake.transport(), base_url="https://api.wise.com") as client:
        headers = {"Authorization": f"Bearer {token}"}
        missing = await client.request(spec["method"], path, json={}, headers=headers)
        empty = await client.request(spec["method"], path, headers=headers)
    assert missing.status_code == 400, (operation_id, missing.text)
    error = missing.json()["errors"][0]
    assert error["code"] == "NOT_VALID" and "is required" in error["message"], error
    assert empty.status_code == 400 and empty.json()["errors"][0]["message"] == "Request body is required."
    assert [r.status for r in fake.calls(operation_id)] == [400, 400]


async def test_path_ids_are_echoed_and_the_token_kind_is_checked() -> None:
    operation_id, spec = spec_driven(
        lambda a: (
            a["method"] == "GET"
            and a["path_ints"]
            and a["security"] == ["user"]
            and isinstance(a["answer"], dict)
            and a["path_ints"][-1] in json.dumps(a["answer"])
            and not a["query_required"]
        )
    )
    fake = FakeWise()
    user, client_token = fake.add_personal_token(), fake.issue_client_token()["access_token"]
    name = spec["path_ints"][-1]
    path = spec["path"].replace("{" + name + "}", "987654")
    for other in spec["path_ints"][:-1]:
        path = path.replace("{" + other + "}", "12")
    async with httpx.AsyncClient(transport=fake.transport(), base_url="https://api.wise.com") as client:
        answer = await client.get(path, headers={"Authorization": f"Bearer {user}"})
        refused = await client.get(path, headers={"Authorization": f"Bearer {client_token}"})
        not_an_id = await client.get(
            path.replace("987654", "abc"), headers={"Authorization": f"Bearer {user}"}
        )
    assert answer.status_code == spec["status"], (operation_id, answer.text)
    assert f'"{name}":987654' in answer.text.replace(" ", ""), (operation_id, answer.text[:300])
    assert refused.status_code == 403
    assert not_an_id.status_code == 400 and name in not_an_id.text
