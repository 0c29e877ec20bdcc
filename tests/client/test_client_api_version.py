"""Calendar versions: operations the bundle puts at ``/2026Q4/...`` can be pinned with ``api_version=``."""

from __future__ import annotations

import httpx
import pytest

from wise_async import WiseClient
from wise_async._operations import OperationSpec, OperationTable
from wise_async.testing import FakeWise
from wise_async.testing._http import FakeResponse, json_response
from wise_async.testing._routing import Call, Route, Router


def spec(operation_id: str, path: str) -> OperationSpec:
    return OperationSpec(
        operation_id=operation_id,
        method="GET",
        path=path,
        namespace="widgets",
        method_name=operation_id,
        module="wise_api.api.widget.x",
        security=(("UserToken",),),
        deprecated=False,
        servers=(),
        idempotency_header=None,
        idempotency_body_key=None,
        request_content_types=(),
    )


TABLE = OperationTable(
    [spec("widgetGet", "/2026Q4/widgets/{widgetId}"), spec("gadgetGet", "/v1/gadgets/{gadgetId}")]
)


async def sent_paths(api_version: str | None, *paths: str) -> list[str]:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={})

    client = WiseClient(
        personal_token="t",
        api_version=api_version,
        operations=TABLE,
        transport=httpx.MockTransport(answer),
        base_url="https://api.example.test/proxy",
    )
    async with client as wise:
        for path in paths:
            await wise.http_client.get(path)
    return seen


async def test_by_default_each_operation_goes_where_the_bundle_says() -> None:
    assert await sent_paths(None, "/2026Q4/widgets/1", "/v1/gadgets/2") == [
        "/proxy/2026Q4/widgets/1",
        "/proxy/v1/gadgets/2",
    ]


async def test_a_pinned_version_moves_only_calendar_versioned_operations() -> None:
    assert await sent_paths("2026q3", "/2026Q4/widgets/1", "/v1/gadgets/2") == [
        "/proxy/2026Q3/widgets/1",
        "/proxy/v1/gadgets/2",
    ]


def test_the_operation_table_matches_any_quarter() -> None:
    assert TABLE.match("GET", "/2026Q3/widgets/7") is TABLE.by_id("widgetGet")
    assert TABLE.by_id("widgetGet").api_version == "2026Q4"
    assert TABLE.by_id("gadgetGet").api_version is None
    assert TABLE.match("GET", "/v2/gadgets/7") is None
    # code written before Wise moved the operation still reaches it (no bundle operation is at /v1/widgets)
    assert TABLE.match("GET", "/v1/widgets/7") is TABLE.by_id("widgetGet")


@pytest.mark.parametrize("bad", ["2026", "Q4", "2026Q5", "v1", "latest", ""])
def test_an_api_version_that_is_not_a_quarter_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="api_version must look like '2026Q4'"):
        WiseClient(personal_token="t", api_version=bad)


def handler(fake: FakeWise, call: Call) -> FakeResponse:
    return json_response(200, {"params": call.params})


def test_fake_routes_of_a_calendar_version_answer_any_quarter_and_stateful_routes_follow_the_bundle() -> None:
    router = Router([Route("GET", "/v1/widgets/{id}", "widgetGet", ("user",), handler)])
    router.follow_bundle_paths({"widgetGet": "/2026Q4/widgets/{widgetId}"})
    matched, params, _ = router.match("GET", "/2026Q3/widgets/5")
    assert matched is not None and matched.moved_from == "/v1/widgets/{id}" and params == {"id": "5"}
    old, _, _ = router.match("GET", "/v1/widgets/5")
    assert old is not None and old.moved_from is None, "the path the route was written for still answers"
