"""The whole-call budget: one deadline over a logical call's attempts, token refreshes and SCA replay.

``await run_within(seconds, call)`` awaits ``call`` and raises ``TimeoutError`` when the deadline passes.
While it runs, ``CURRENT_BUDGET`` holds the call's budget: its ``deadline`` (the event loop's clock) is
what the opt-in rate limiter moves while the call queues.

On asyncio (Python 3.11+) the deadline is kept by one watchdog per event loop: a call registers it and
arms no timer of its own, so a call that ends in time (nearly every call) never touches the loop's
timers; the cancellation is ``asyncio.timeout``'s (cancel the task, turn that cancel, and only that one,
into ``TimeoutError``). On trio and Python 3.10 it is ``anyio.fail_after``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

__all__ = ["CURRENT_BUDGET", "Budget", "run_within", "sleep_with_anyio"]

T = TypeVar("T")


class Budget(Protocol):
    deadline: float


CURRENT_BUDGET: ContextVar[Budget | None] = ContextVar("wise_call_budget", default=None)


async def sleep_with_anyio(seconds: float) -> None:
    """``anyio.sleep`` (asyncio and trio alike) for retries, pacing and lease polls. anyio is imported at
    the first wait, as httpcore imports it at its first request: ``import wise_async`` does not load it."""
    from anyio import sleep

    await sleep(seconds)


async def _run_within_anyio(seconds: float, call: Awaitable[T]) -> T:
    from anyio import fail_after  # loaded at the first call, as httpcore loads anyio at its first request

    with fail_after(seconds) as scope:
        running = CURRENT_BUDGET.set(scope)
        try:
            return await call
        finally:
            CURRENT_BUDGET.reset(running)


if sys.version_info >= (3, 11):
    from weakref import WeakKeyDictionary, ref

    def _no_handle() -> None:
        return None

    class _Watchdog:
        """One timer per event loop for the deadlines of all running calls.

        The timer is armed for the earliest deadline it knows; when it fires it expires the calls that
        are due and re-arms for the next. A call that ends in time only leaves the set.
        """

        __slots__ = ("_armed_for", "_budgets", "_handle", "loop")

        def __init__(self, loop: Any) -> None:
            # weak references to the loop and its timer (which holds the loop): _watchdogs keeps this
            # watchdog only while the loop lives
            self.loop = ref(loop)
            self._budgets: set[_AsyncioBudget] = set()
            self._handle: Callable[[], Any] = _no_handle
            self._armed_for = math.inf

        def watch(self, budget: _AsyncioBudget) -> None:
            self._budgets.add(budget)
            self.moved(budget)

        def forget(self, budget: _AsyncioBudget) -> None:
            self._budgets.discard(budget)

        def moved(self, budget: _AsyncioBudget) -> None:
            if budget._deadline < self._armed_for:
                armed = self._handle()
                if armed is not None:
                    armed.cancel()
                self._armed_for = budget._deadline
                self._handle = ref(budget.loop.call_at(budget._deadline, self._fire))

        def _fire(self) -> None:
            due, self._handle, self._armed_for = self._armed_for, _no_handle, math.inf
            for budget in [b for b in self._budgets if b._deadline <= due]:
                self._budgets.discard(budget)
                budget.expire()
            if self._budgets:
                self.moved(min(self._budgets, key=_deadline_of))

    def _deadline_of(budget: _AsyncioBudget) -> float:
        return budget._deadline

    _watchdogs: WeakKeyDictionary[Any, _Watchdog] = WeakKeyDictionary()
    _recent: _Watchdog | None = None

    def _watchdog_of(loop: Any) -> _Watchdog:
        global _recent
        watchdog = _recent
        if watchdog is None or watchdog.loop() is not loop:
            try:
                watchdog = _watchdogs.get(loop)
                if watchdog is None:
                    watchdog = _watchdogs[loop] = _Watchdog(loop)
            except TypeError:  # a loop without weak references: a watchdog while it is the recent one
                watchdog = _Watchdog(loop)
            _recent = watchdog
        return watchdog

    class _AsyncioBudget:
        """One call's deadline on asyncio; ``expire`` cancels the call's task, as ``asyncio.timeout``."""

        __slots__ = ("_cancelling", "_deadline", "_expired", "_task", "_watchdog", "loop")

        def __init__(self, task: Any, seconds: float) -> None:
            self._task = task
            self._cancelling: int = task.cancelling()
            self.loop = loop = task.get_loop()
            self._deadline = loop.time() + seconds
            self._expired = False
            self._watchdog = _watchdog_of(loop)
            self._watchdog.watch(self)

        @property
        def deadline(self) -> float:
            return self._deadline

        @deadline.setter
        def deadline(self, value: float) -> None:
            self._deadline = value
            self._watchdog.moved(self)

        def expire(self) -> None:
            self._expired = True
            self._task.cancel()

        def finish(self) -> bool:
            """Leave the watchdog; True when this budget's cancel is the one to turn into TimeoutError."""
            self._watchdog.forget(self)
            return self._expired and self._task.uncancel() <= self._cancelling

    def _current_asyncio_task() -> Any:
        """The running asyncio task, or None off asyncio (trio): what ``sniffio`` would say, without its
        override lookups, for a check made once per call."""
        asyncio = sys.modules.get("asyncio")
        if asyncio is None:
            return None
        try:
            return asyncio.current_task()
        except RuntimeError:  # no asyncio loop runs in this thread
            return None

    async def run_within(seconds: float, call: Awaitable[T]) -> T:
        task = _current_asyncio_task()
        if task is None:
            return await _run_within_anyio(seconds, call)
        from asyncio import CancelledError  # loaded: this runs on its loop

        budget = _AsyncioBudget(task, seconds)
        running = CURRENT_BUDGET.set(budget)
        try:
            result = await call
        except CancelledError as error:
            if budget.finish():
                raise TimeoutError from error
            raise
        except BaseException:
            budget.finish()
            raise
        finally:
            CURRENT_BUDGET.reset(running)
        budget.finish()
        return result

else:
    run_within = _run_within_anyio
