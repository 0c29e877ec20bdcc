"""The paginator and the paging styles on scripted responses (no HTTP): stop rules, limits, loops."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import wise_api.models
from type_codes import members
from wise_api.operations import OPERATIONS
from wise_api.types import UNSET

from wise_async import InvalidRequestError, PaginationError, WiseClient
from wise_async.pagination import PAGING_STYLES, AsyncPaginator, Page, PagingStyle, paginate

Response = Any


class Script:
    """A fetch function answering from a function of the request's keywords, recording every call."""

    def __init__(self, answer: Callable[[dict[str, Any]], Response]) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []
        self.args: list[tuple[Any, ...]] = []

    async def __call__(self, *args: Any, **params: Any) -> Response:
        self.args.append(args)
        self.calls.append(params)
        return self.answer(params)


def seek_server(total: int) -> Script:
    """recipientList semantics over ids 1..total."""

    def answer(params: dict[str, Any]) -> Response:
        start = params.get("seek_position") or 1
        ids = list(range(start, min(start + params["size"], total + 1)))
        following = ids[-1] + 1 if ids and ids[-1] < total else None
        return SimpleNamespace(content=ids, seek_position_for_next=following)

    return Script(answer)


def paginator(operation_id: str, script: Script, **kwargs: Any) -> AsyncPaginator[Any]:
    limits = {k: kwargs.pop(k) for k in ("max_items", "max_pages") if k in kwargs}
    return AsyncPaginator(
        script, PAGING_STYLES[operation_id], operation_id=operation_id, params=kwargs, **limits
    )


async def collect(p: AsyncPaginator[Any]) -> list[Any]:
    return [item async for item in p]


# ----------------------------------------------------------------------------- the style table


def test_every_paged_operation_has_a_style_and_a_facade_method() -> None:
    assert set(PAGING_STYLES) == {
        "recipientList",
        "activityList",
        "transferList",
        "cardTransactionList",
        "cardList",
        "cardOrderList",
        "disputeList",
        "kycReviewList",
    }
    assert {style.name for style in PAGING_STYLES.values()} == {
        "seekPosition",
        "cursor",
        "offset",
        "lastId",
        "pageNumber",
    }
    wise = WiseClient(personal_token="t")
    for operation_id in PAGING_STYLES:
        assert isinstance(
            paginate(wise, operation_id, *([1] * _path_args(operation_id)), **_required(operation_id)),
            AsyncPaginator,
        )


def _path_args(operation_id: str) -> int:
    return {"recipientList": 0, "transferList": 0, "cardTransactionList": 2}.get(operation_id, 1)


def _required(operation_id: str) -> dict[str, Any]:
    if operation_id == "cardTransactionList":
        return {"from_creation_time": None, "to_creation_time": None}
    return {}


def test_paginate_checks_arguments_before_any_request() -> None:
    wise = WiseClient(personal_token="t")
    with pytest.raises(TypeError, match="currencyy"):  # a typed signature: Python's own error, and mypy's
        wise.iter_recipients(currencyy="EUR")  # type: ignore[call-arg]
    with pytest.raises(InvalidRequestError, match="currencyy"):  # by name: checked before any request
        wise.paginate("recipientList", currencyy="EUR")
    with pytest.raises(InvalidRequestError, match="profile_id"):
        wise.paginate("activityList")  # profile_id missing
    with pytest.raises(ValueError, match="not a paged operation"):
        wise.paginate("transferGet", 1)
    with pytest.raises(ValueError, match="max_items"):
        wise.iter_recipients(max_items=-1)


# ----------------------------------------------------------------------------- stop rules


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (19, 1), (20, 1), (21, 2), (40, 2), (41, 3)])
async def test_seek_position_stops_on_a_null_cursor(total: int, pages: int) -> None:
    script = seek_server(total)
    assert await collect(paginator("recipientList", script)) == list(range(1, total + 1))
    assert len(script.calls) == pages
    assert all(call["size"] == 20 for call in script.calls)


@pytest.mark.parametrize("end", [None, UNSET, "", "missing"])
async def test_a_null_absent_or_empty_cursor_ends(end: Any) -> None:
    def answer(params: dict[str, Any]) -> Response:
        if params.get("next_cursor") is None:
            return SimpleNamespace(activities=[1, 2], cursor="c2")
        if end == "missing":
            return SimpleNamespace(activities=[3])
        return SimpleNamespace(activities=[3], cursor=end)

    script = Script(answer)
    assert await collect(paginator("activityList", script)) == [1, 2, 3]
    assert [c.get("next_cursor") for c in script.calls] == [None, "c2"]


async def test_an_empty_page_ends_even_with_a_cursor() -> None:
    script = Script(lambda params: SimpleNamespace(content=[], seek_position_for_next=99))
    assert await collect(paginator("recipientList", script)) == []
    assert len(script.calls) == 1


@pytest.mark.parametrize(("total", "requests"), [(0, 1), (99, 1), (100, 2), (250, 3), (300, 4)])
async def test_offset_stops_on_a_short_page(total: int, requests: int) -> None:
    script = Script(lambda p: list(range(p["offset"], min(p["offset"] + p["limit"], total))))
    assert await collect(paginator("transferList", script)) == list(range(total))
    assert [c["offset"] for c in script.calls] == [100 * i for i in range(requests)]


async def test_last_id_follows_the_last_item() -> None:
    ids = list(range(250, 0, -1))  # Wise lists card transactions newest (highest id) first

    def answer(params: dict[str, Any]) -> Response:
        after = [i for i in ids if params.get("last_id") is None or i < params["last_id"]]
        return SimpleNamespace(transactions=[SimpleNamespace(id=i) for i in after[: params["page_size"]]])

    script = Script(answer)
    items = await collect(paginator("cardTransactionList", script, page_size=100))
    assert [t.id for t in items] == ids
    assert [c.get("last_id") for c in script.calls] == [None, 151, 51]


@pytest.mark.parametrize(("total", "requests"), [(0, 1), (10, 1), (20, 2), (25, 3)])
async def test_page_number_stops_at_total_count(total: int, requests: int) -> None:
    def answer(params: dict[str, Any]) -> Response:
        start = (params["page_number"] - 1) * params["page_size"]
        return SimpleNamespace(
            cards=list(range(total))[start : start + params["page_size"]], total_count=total
        )

    script = Script(answer)
    assert await collect(paginator("cardList", script, page_size=10)) == list(range(total))
    assert [c["page_number"] for c in script.calls] == list(range(1, requests + 1))


@pytest.mark.parametrize(("total", "requests"), [(0, 1), (9, 1), (10, 2), (25, 3)])
async def test_page_number_without_total_stops_on_a_short_page(total: int, requests: int) -> None:
    script = Script(
        lambda p: list(range(total))[
            (p["page_number"] - 1) * p["page_size"] : p["page_number"] * p["page_size"]
        ]
    )
    assert await collect(paginator("kycReviewList", script, page_size=10)) == list(range(total))
    assert len(script.calls) == requests


# ----------------------------------------------------------------------------- loops


async def test_a_repeated_cursor_raises_instead_of_looping() -> None:
    script = Script(lambda p: SimpleNamespace(content=[1], seek_position_for_next=7))
    seen: list[int] = []
    with pytest.raises(PaginationError, match="cursor 7 again"):
        async for item in paginator("recipientList", script):
            seen.append(item)
    assert seen == [1, 1]  # every page received is delivered before the error
    assert len(script.calls) == 2


async def test_a_longer_cursor_cycle_is_caught_too() -> None:
    following = {None: "a", "a": "b", "b": "c", "c": "a"}
    script = Script(
        lambda p: SimpleNamespace(activities=[p.get("next_cursor")], cursor=following[p.get("next_cursor")])
    )
    with pytest.raises(PaginationError):
        await collect(paginator("activityList", script))
    assert len(script.calls) <= 8


async def test_last_id_that_does_not_move_raises() -> None:
    page = SimpleNamespace(transactions=[SimpleNamespace(id=i) for i in range(20, 10, -1)])
    script = Script(lambda p: page)  # a server ignoring lastId
    with pytest.raises(PaginationError):
        await collect(paginator("cardTransactionList", script, page_size=10))
    assert len(script.calls) == 2


# ----------------------------------------------------------------------------- limits, pages, closing


async def test_max_items_and_max_pages() -> None:
    script = seek_server(100)
    assert await collect(paginator("recipientList", script, max_items=25)) == list(range(1, 26))
    assert len(script.calls) == 2
    script = seek_server(100)
    assert len(await collect(paginator("recipientList", script, max_pages=3))) == 60
    assert len(script.calls) == 3
    script = seek_server(100)
    assert await collect(paginator("recipientList", script, max_items=0)) == []
    assert script.calls == []


async def test_pages_carry_items_and_the_next_request() -> None:
    script = seek_server(45)
    pages = [page async for page in paginator("recipientList", script, currency="EUR").iter_pages()]
    assert [len(p.items) for p in pages] == [20, 20, 5]
    assert [p.number for p in pages] == [1, 2, 3]
    assert pages[0].next_params == {"currency": "EUR", "size": 20, "seek_position": 21}
    assert pages[0].has_next and not pages[-1].has_next
    assert pages[-1].next_params is None
    assert pages[1].response.seek_position_for_next == 41


async def test_page_iteration_stops_once_max_items_are_in_hand() -> None:
    script = seek_server(100)
    pages = [p async for p in paginator("recipientList", script, max_items=30).iter_pages()]
    assert [len(p.items) for p in pages] == [20, 20]  # pages are not trimmed


async def test_resume_from_next_params() -> None:
    script = seek_server(45)
    first = await paginator("recipientList", script)
    assert isinstance(first, Page) and first.next_params is not None
    rest = await collect(paginator("recipientList", script, **first.next_params))
    assert rest == list(range(21, 46))


async def test_each_iteration_starts_again_and_break_needs_no_cleanup() -> None:
    script = seek_server(100)
    p = paginator("recipientList", script)
    async for item in p:
        if item == 3:
            break
    assert len(script.calls) == 1
    assert await collect(p) == list(range(1, 101))
    assert [c.get("seek_position") for c in script.calls[:2]] == [None, None]


async def test_aclose_ends_running_iterations() -> None:
    script = seek_server(100)
    async with paginator("recipientList", script) as p:
        items = aiter(p)
        assert await anext(items) == 1
        await p.aclose()
        with pytest.raises(StopAsyncIteration):
            await anext(items)
    assert await collect(p) == []
    assert len(script.calls) == 1
    async with p.iter_pages() as pages:
        assert [page async for page in pages] == []


async def test_a_failed_request_can_be_retried_in_place() -> None:
    failures = [RuntimeError("network")]

    def answer(params: dict[str, Any]) -> Response:
        if params.get("seek_position") == 21 and failures:
            raise failures.pop()
        return seek_server(45).answer(params)

    script = Script(answer)
    items = aiter(paginator("recipientList", script))
    received = [await anext(items) for _ in range(20)]
    with pytest.raises(RuntimeError):
        await anext(items)
    received += [item async for item in items]  # the same page is asked for again, no loop error
    assert received == list(range(1, 46))


async def test_path_args_are_passed_positionally() -> None:
    script = Script(lambda p: SimpleNamespace(cards=[], total_count=0))
    await collect(AsyncPaginator(script, PAGING_STYLES["cardList"], operation_id="cardList", args=(42,)))
    assert script.args == [(42,)]
    assert script.calls == [{"page_size": 100, "page_number": 1}]


def test_styles_satisfy_the_protocol() -> None:
    styles: list[PagingStyle] = list(PAGING_STYLES.values())
    assert all(style.cursor_param for style in styles)
    assert "recipientList" in repr(paginator("recipientList", seek_server(0)))


# ----------------------------------------------------------------------------- the typed iterators

ITERATORS = sorted(n for n in dir(WiseClient) if n.startswith("iter_") and n != "iter_pages")


def _operation_of(wise: WiseClient, iterator: str) -> str:
    method = getattr(wise, iterator)
    positional = [
        p for p in inspect.signature(method).parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    keywords = {
        p.name: None
        for p in inspect.signature(method).parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty
    }
    paginator = method(*([1] * len(positional)), **keywords)
    return str(paginator.operation_id)


def _union(type_code: str) -> frozenset[str]:
    return frozenset(m for m in members(type_code) if m not in ("None", "Unset"))


def _list_item(type_code: str) -> frozenset[str]:
    (listed,) = [part for part in _union(type_code) if part.startswith("list[")]
    return _union(listed[len("list[") : -1])


def test_every_paged_operation_has_one_typed_iterator() -> None:
    wise = WiseClient(personal_token="t")
    assert sorted(_operation_of(wise, name) for name in ITERATORS) == sorted(PAGING_STYLES)


@pytest.mark.parametrize("iterator", ITERATORS)
def test_a_typed_iterator_yields_the_item_type_and_takes_the_arguments_the_spec_gives(iterator: str) -> None:
    """The `iter_*` methods are generated over the spec's paging table (codegen/paging.py); their item
    type and required arguments must be the facade's, so a generator change that breaks either fails
    here, not in a user's type check."""
    wise = WiseClient(personal_token="t")
    operation_id = _operation_of(wise, iterator)
    (op,) = [o for o in OPERATIONS if o.operation_id == operation_id]
    facade = inspect.signature(getattr(getattr(wise, op.namespace), op.method_name))
    returned = str(facade.return_annotation)
    items_field = PAGING_STYLES[operation_id].items_field
    if items_field is None:
        items = _list_item(returned)
    else:
        module = importlib.import_module(getattr(wise_api.models, returned).__module__)
        items = _list_item(module._FIELD_TYPES[module._JSON_NAMES[items_field]])
    annotation = str(inspect.signature(getattr(wise, iterator)).return_annotation)
    assert annotation.startswith("AsyncPaginator[")
    assert _union(annotation[len("AsyncPaginator[") : -1]) == items

    def required(signature: inspect.Signature, kind: Any) -> list[str]:
        return [p.name for p in signature.parameters.values() if p.kind is kind and p.default is p.empty]

    ours = inspect.signature(getattr(wise, iterator))
    for kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
        assert required(ours, kind) == required(facade, kind)
