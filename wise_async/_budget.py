"""The whole-call budget: one deadline over a logical call's attempts, token refreshes and SCA replay.

``call_budget(seconds)`` is an async context manager that raises ``TimeoutError`` when the deadline
passes; what it yields has a ``deadline`` (the event loop's clock). ``WiseClient`` makes it the running
call's ``CURRENT_BUDGET``, whose deadline the opt-in rate limiter moves while the call queues. On asyncio
(Python 3.11+) it is ``asyncio.timeout``, which costs a third of an anyio cancel scope on every call; on
trio and Python 3.10 it is ``anyio.fail_after``.
"""

from __future__ import annotations

import math
import sys
from contextvars import ContextVar
from types import TracebackType
from typing import Protocol

import anyio
import sniffio

__all__ = ["CURRENT_BUDGET", "Budget", "call_budget"]


class Budget(Protocol):
    deadline: float


CURRENT_BUDGET: ContextVar[Budget | None] = ContextVar("wise_call_budget", default=None)


class _AnyioBudget:
    __slots__ = ("_context", "_scope")

    def __init__(self, seconds: float) -> None:
        self._context = anyio.fail_after(seconds)
        self._scope: anyio.CancelScope | None = None

    async def __aenter__(self) -> Budget:
        self._scope = self._context.__enter__()
        return self._scope

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> bool | None:
        return self._context.__exit__(kind, error, trace)


if sys.version_info >= (3, 11):

    class _AsyncioBudget:
        __slots__ = ("_timeout",)

        def __init__(self, seconds: float) -> None:
            import asyncio  # loaded already: this runs on its loop (at module level: +20 ms to import)

            self._timeout = asyncio.timeout(seconds)

        async def __aenter__(self) -> Budget:
            await self._timeout.__aenter__()
            return self

        async def __aexit__(
            self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
        ) -> bool | None:
            return await self._timeout.__aexit__(kind, error, trace)

        @property
        def deadline(self) -> float:
            when = self._timeout.when()
            return math.inf if when is None else when

        @deadline.setter
        def deadline(self, value: float) -> None:
            self._timeout.reschedule(None if math.isinf(value) else value)

    def call_budget(seconds: float) -> _AsyncioBudget | _AnyioBudget:
        if sniffio.current_async_library() == "asyncio":
            return _AsyncioBudget(seconds)
        return _AnyioBudget(seconds)

else:

    def call_budget(seconds: float) -> _AnyioBudget:
        return _AnyioBudget(seconds)
