"""``async for`` over every paged list of the Wise API: one paginator, one table of paging styles.

Wise pages its lists in five ways; each is a small strategy (how to read the items and the next
request's parameters from a response, and when to stop), and :data:`PAGING_STYLES` maps every paged
operationId to one of them:

=====================  ==========================================  ===========================================
style                  operations                                  next page / stop
=====================  ==========================================  ===========================================
``seekPosition``       recipientList                               ``seekPositionForNext``; null/absent/empty
``cursor``             activityList                                ``cursor`` → ``nextCursor``; null/""/empty
``offset``             transferList                                ``offset += len``; short or empty page
``lastId``             cardTransactionList                         last item's id; short or empty page
``pageNumber``         cardList, cardOrderList, disputeList,       ``pageNumber + 1``; ``totalCount`` reached,
                       kycReviewList                               else short or empty page
=====================  ==========================================  ===========================================

Requests go through the generated facade method (``wise.recipients.list`` ...), so auth, SCA, retries and
typed errors are the same as for a single call. Usage::

    async for recipient in wise.iter_recipients(currency="EUR", max_items=500):
        ...
    async for page in wise.iter_transfers(profile=profile_id).iter_pages():
        store(page.items); checkpoint(page.next_params)       # resume: wise.iter_transfers(**next_params)
    first = await wise.iter_cards(profile_id)               # awaiting gives the first Page

Only the current page is held: iterating 100,000 recipients needs the memory of one page. A server that
hands back a cursor it already gave (a loop) raises :class:`~wise_async.PaginationError`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

import attrs
from wise_api.paging import PAGED
from wise_api.types import Unset

from ._exceptions import InvalidRequestError, PaginationError
from ._operations import default_table
from ._options import RequestOptions
from ._paginated_client import PaginationMixin  # WiseClient's iterators, kept apart so WiseClient loads fast

__all__ = [
    "PAGING_STYLES",
    "AsyncPaginator",
    "ItemIterator",
    "LastId",
    "Offset",
    "Page",
    "PageIterator",
    "PageNumber",
    "PaginationMixin",
    "PagingStyle",
    "ResponseCursor",
    "paginate",
]

T = TypeVar("T")
Params = dict[str, Any]
Fetch = Callable[..., Awaitable[Any]]


# --------------------------------------------------------------------------------------------------
# Pages and paging styles


@attrs.frozen
class Page(Generic[T]):
    """One response of a paged list.

    ``next_params`` are the complete keyword arguments of the next request (filters included), or None
    on the last page: persist them to resume later with ``wise.paginate(operation_id, *path_args,
    **next_params)``. ``response`` is the parsed response model (``totalCount``, ``sort`` ...).
    """

    items: Sequence[T]
    next_params: Mapping[str, Any] | None
    number: int
    response: Any = attrs.field(repr=False)

    @property
    def has_next(self) -> bool:
        return self.next_params is not None


def _present(value: object) -> bool:
    """A usable value: not None, not the generated client's ``UNSET``, not an empty string."""
    return value is not None and value != "" and not isinstance(value, Unset)


class PagingStyle(Protocol):
    """How one family of Wise endpoints pages: a strategy of the paginator."""

    @property
    def name(self) -> str: ...

    @property
    def cursor_param(self) -> str:
        """The facade keyword that moves from page to page (``seek_position``, ``offset`` ...)."""
        ...

    def first_params(self, params: Params) -> Params:
        """The first request's keywords: the caller's, with the page size (and start) filled in."""
        ...

    def items(self, response: Any) -> list[Any]: ...

    def next_params(self, params: Params, response: Any, items: list[Any]) -> Params | None:
        """The next request's keywords, or None when ``response`` was the last page."""
        ...


@attrs.frozen
class _Style:
    """Shared parts: where the items are and which keyword sets the page size."""

    name: str
    cursor_param: str
    size_param: str
    default_size: int
    items_field: str | None
    """Attribute of the response model holding the items; None when the response is the list itself."""

    def first_params(self, params: Params) -> Params:
        first = dict(params)
        if not _present(first.get(self.size_param)):
            first[self.size_param] = self.default_size
        return first

    def items(self, response: Any) -> list[Any]:
        found = response if self.items_field is None else getattr(response, self.items_field, None)
        return list(found) if isinstance(found, list) else []

    def _advance(self, params: Params, cursor: Any) -> Params | None:
        return None if cursor is None else {**params, self.cursor_param: cursor}


@attrs.frozen
class ResponseCursor(_Style):
    """The server names the next page (``seekPositionForNext``, ``cursor``); null, absent or "" ends."""

    next_field: str = ""

    def next_params(self, params: Params, response: Any, items: list[Any]) -> Params | None:
        cursor = getattr(response, self.next_field, None)
        return self._advance(params, cursor if items and _present(cursor) else None)


@attrs.frozen
class Offset(_Style):
    """``offset``/``limit``: the next offset is this one plus the items received; a short page ends."""

    def first_params(self, params: Params) -> Params:
        first = super().first_params(params)
        first.setdefault(self.cursor_param, 0)
        return first

    def next_params(self, params: Params, response: Any, items: list[Any]) -> Params | None:
        if not items or len(items) < int(params[self.size_param]):
            return None
        return self._advance(params, int(params[self.cursor_param]) + len(items))


@attrs.frozen
class LastId(_Style):
    """Keyset paging: the next page starts after the last item's id (ids descend); a short page ends."""

    id_field: str = "id"

    def next_params(self, params: Params, response: Any, items: list[Any]) -> Params | None:
        if not items or len(items) < int(params[self.size_param]):
            return None
        last = getattr(items[-1], self.id_field, None)
        return self._advance(params, last if _present(last) else None)


@attrs.frozen
class PageNumber(_Style):
    """``pageNumber`` from 1; ends at ``totalCount`` when the response has one, else at a short page."""

    total_field: str | None = None

    def first_params(self, params: Params) -> Params:
        first = super().first_params(params)
        if not _present(first.get(self.cursor_param)):
            first[self.cursor_param] = 1
        return first

    def next_params(self, params: Params, response: Any, items: list[Any]) -> Params | None:
        if not items:
            return None
        number, size = int(params[self.cursor_param]), int(params[self.size_param])
        total = getattr(response, self.total_field, None) if self.total_field else None
        if isinstance(total, int):
            if number * size >= total:
                return None
        elif len(items) < size:
            return None
        return self._advance(params, number + 1)


def _style(row: tuple[str, str, str, str, int, str | None, str | None, str | None]) -> PagingStyle:
    style, name, cursor, size, largest, items, next_field, total = row
    if style == "cursor":
        return ResponseCursor(name, cursor, size, largest, items, next_field=next_field or "")
    if style == "offset":
        return Offset(name, cursor, size, largest, items)
    if style == "lastId":
        return LastId(name, cursor, size, largest, items)
    return PageNumber(name, cursor, size, largest, items, total_field=total)


PAGING_STYLES: Mapping[str, PagingStyle] = {operation: _style(row) for operation, row in PAGED.items()}
"""Every paged operation of the spec → its style (default page sizes are the largest Wise allows), from the
table the pipeline derives from the spec (``wise_api.paging``, codegen/paging.py)."""


# --------------------------------------------------------------------------------------------------
# The paginator


class _LoopGuard:
    """Catches a server leading back to a cursor already sent, in constant memory.

    The same cursor twice in a row is caught at once; a longer loop by Brent's cycle detection (the
    remembered cursor moves at doubling intervals, so a loop of any length is met within two laps).
    """

    def __init__(self, operation_id: str) -> None:
        self._operation_id = operation_id
        self._previous: tuple[Any] | None = None
        self._anchor: tuple[Any] | None = None
        self._power = 1
        self._steps = 0

    def check(self, cursor: Any) -> None:
        if (self._previous is not None and self._previous[0] == cursor) or (
            self._anchor is not None and self._anchor[0] == cursor
        ):
            raise PaginationError(
                f"{self._operation_id}: the server returned cursor {cursor!r} again; "
                "stopping instead of looping forever"
            )
        self._previous = (cursor,)
        self._steps += 1
        if self._steps == self._power:
            self._anchor, self._power, self._steps = (cursor,), self._power * 2, 0


def _limit(name: str, value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise InvalidRequestError(f"{name} must be an int >= 0 or None, not {value!r:.40}")
    return value


class AsyncPaginator(Generic[T]):
    """A paged list, iterated lazily: ``async for item in ...``, ``.iter_pages()``, ``await`` → first page.

    Nothing is requested until iteration starts, and each iteration starts again from the first page.
    ``max_items`` stops after that many items; ``max_pages`` after that many requests (page iteration
    stops once the pages seen hold ``max_items``; pages are never trimmed). Breaking out of a loop
    needs no clean-up: no request is left in flight and no generator is left suspended;
    :meth:`aclose` (or ``async with``) ends any iteration still running over this paginator.
    """

    def __init__(
        self,
        fetch: Fetch,
        style: PagingStyle,
        *,
        operation_id: str,
        args: Sequence[Any] = (),
        params: Mapping[str, Any] | None = None,
        max_items: int | None = None,
        max_pages: int | None = None,
    ) -> None:
        self._fetch = fetch
        self.style = style
        self.operation_id = operation_id
        self.args = tuple(args)
        self.params: Mapping[str, Any] = style.first_params(dict(params or {}))
        self.max_items = _limit("max_items", max_items)
        self.max_pages = _limit("max_pages", max_pages)
        self.closed = False

    def __repr__(self) -> str:
        return (
            f"AsyncPaginator({self.operation_id!r}, style={self.style.name!r}, args={self.args!r}, "
            f"params={dict(self.params)!r}, max_items={self.max_items}, max_pages={self.max_pages})"
        )

    def __aiter__(self) -> ItemIterator[T]:
        return ItemIterator(self.iter_pages(), self.max_items)

    def iter_pages(self) -> PageIterator[T]:
        return PageIterator(self)

    async def first_page(self) -> Page[T]:
        """The first page, whatever the limits (one request)."""
        return await PageIterator(self, limits=False).__anext__()

    def __await__(self) -> Generator[Any, None, Page[T]]:
        return self.first_page().__await__()

    async def aclose(self) -> None:
        """End every iteration of this paginator; later iterations yield nothing."""
        self.closed = True

    async def __aenter__(self) -> AsyncPaginator[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class PageIterator(Generic[T]):
    """One pass over the pages. A failed request leaves the position unchanged: ``__anext__`` retries it."""

    def __init__(self, paginator: AsyncPaginator[T], *, limits: bool = True) -> None:
        self._paginator = paginator
        self._limits = limits
        self._params: Params | None = dict(paginator.params)
        self._closed = False
        self._pages = 0
        self._items = 0
        self._guard = _LoopGuard(paginator.operation_id)
        self._guarded = False  # the pending params' cursor went through the guard (retries skip it)

    def __aiter__(self) -> PageIterator[T]:
        return self

    @property
    def closed(self) -> bool:
        """Closed by :meth:`aclose` (here, on the paginator, or on an item iterator over it)."""
        return self._closed or self._paginator.closed

    def _exhausted(self) -> bool:
        if not self._limits:
            return self._params is None
        p = self._paginator
        if self._params is None or self.closed:
            return True
        return (p.max_pages is not None and self._pages >= p.max_pages) or (
            p.max_items is not None and self._items >= p.max_items
        )

    async def __anext__(self) -> Page[T]:
        if self._exhausted():
            self._params = None
            raise StopAsyncIteration
        assert self._params is not None
        p, params = self._paginator, self._params
        if not self._guarded:
            self._guard.check(params.get(p.style.cursor_param))
            self._guarded = True
        response = await p._fetch(*p.args, **params)
        items = p.style.items(response)
        next_params = p.style.next_params(params, response, items)
        self._pages += 1
        self._items += len(items)
        self._params, self._guarded = next_params, False
        return Page(items=items, next_params=next_params, number=self._pages, response=response)

    async def aclose(self) -> None:
        self._closed = True
        self._params = None

    async def __aenter__(self) -> PageIterator[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class ItemIterator(Generic[T]):
    """One pass over the items, holding only the current page."""

    def __init__(self, pages: PageIterator[T], max_items: int | None) -> None:
        self._pages = pages
        self._remaining = max_items
        self._current: Iterator[T] = iter(())

    def __aiter__(self) -> ItemIterator[T]:
        return self

    async def __anext__(self) -> T:
        pages = self._pages
        while self._remaining != 0 and not (pages._closed or pages._paginator.closed):  # pages.closed
            for item in self._current:
                if self._remaining is not None:
                    self._remaining -= 1
                return item
            page = await self._pages.__anext__()
            self._current = iter(page.items)
        await self.aclose()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self._current = iter(())
        await self._pages.aclose()

    async def __aenter__(self) -> ItemIterator[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


# --------------------------------------------------------------------------------------------------
# Binding to a client


def paginate(
    client: object,
    operation_id: str,
    *args: Any,
    max_items: int | None = None,
    max_pages: int | None = None,
    **params: Any,
) -> AsyncPaginator[Any]:
    """A paginator over ``operation_id`` (one of :data:`PAGING_STYLES`) of a ``WiseClient``.

    ``args`` are the operation's path parameters and ``params`` its keyword arguments (filters, page
    size, a starting cursor), exactly as the facade method takes them; they are checked now, so a
    misspelt filter fails here rather than on the first request.
    """
    try:
        style = PAGING_STYLES[operation_id]
    except KeyError:
        raise InvalidRequestError(
            f"{operation_id!r:.80} is not a paged operation; paged ones: {', '.join(sorted(PAGING_STYLES))}"
        ) from None
    spec = default_table().by_id(operation_id)
    fetch: Fetch = getattr(getattr(client, spec.namespace), spec.method_name)
    try:
        bound = inspect.signature(fetch).bind(*args, **params)
    except TypeError as exc:  # a missing, extra or misspelt argument: refused now, before any request
        raise InvalidRequestError(f"{operation_id}: {exc}") from None
    unknown = set(bound.arguments.get("options", {})) - set(RequestOptions.__annotations__)
    if unknown:  # the facade's **options would take them: say which names are wrong, as bind() would
        raise InvalidRequestError(f"{operation_id} got unexpected keyword argument(s) {sorted(unknown)}")
    return AsyncPaginator(
        fetch,
        style,
        operation_id=operation_id,
        args=args,
        params=params,
        max_items=max_items,
        max_pages=max_pages,
    )
