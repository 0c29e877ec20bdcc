"""The whole-call budget (wise_async/_budget.py): one watchdog timer per event loop keeps every running
call's deadline on asyncio; anyio's cancel scope on trio. Over sockets the budget is tested in
tests/loopback; here its own rules: each call expires at its own deadline whatever order they start in,
only the budget's own cancel becomes TimeoutError, a moved deadline is kept, no loop is kept alive."""

from __future__ import annotations

import asyncio
import gc
import math
import sys
import weakref
from typing import Any

import pytest
import trio

from wise_async._budget import CURRENT_BUDGET, run_within

STALL = 30.0  # far beyond every budget here: a call that ends did so because its budget ended it


async def _timed_out_in_order(budgets: list[float]) -> list[float]:
    """Start one stalled call per budget (in the given order); the budgets in the order they ended."""
    ended: list[float] = []

    async def call(seconds: float) -> None:
        with pytest.raises(TimeoutError):
            await run_within(seconds, asyncio.sleep(STALL))
        ended.append(seconds)

    await asyncio.wait_for(asyncio.gather(*(call(seconds) for seconds in budgets)), timeout=5)
    return ended


def test_each_call_ends_at_its_own_deadline_whatever_order_they_start_in() -> None:
    # a later call with an earlier deadline re-arms the loop's one timer; the fire re-arms for the next
    assert asyncio.run(_timed_out_in_order([0.4, 0.05, 0.25, 0.15])) == [0.05, 0.15, 0.25, 0.4]


def test_a_call_that_ends_in_time_returns_its_result_and_leaves_no_budget_behind() -> None:
    async def main() -> tuple[int, Any]:
        result = await run_within(5, asyncio.sleep(0.01, result=42))
        await asyncio.sleep(0)
        return result, CURRENT_BUDGET.get()

    assert asyncio.run(main()) == (42, None)


@pytest.mark.parametrize(
    "seconds",
    [
        pytest.param(5.0, id="budget-far"),
        pytest.param(
            0.05,
            id="budget-due-at-the-cancel",
            marks=pytest.mark.skipif(
                sys.version_info < (3, 11),
                reason="asyncio before 3.11 has no Task.uncancel: anyio's scope cannot tell the two apart",
            ),
        ),
    ],
)
def test_an_outer_cancel_stays_a_cancel(seconds: float) -> None:
    async def main() -> list[str]:
        seen: list[str] = []

        async def call() -> None:
            try:
                await run_within(seconds, asyncio.sleep(STALL))
            except TimeoutError:
                seen.append("timeout")
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise

        task = asyncio.create_task(call())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return seen

    assert asyncio.run(main()) == ["cancelled"]


def test_the_rate_limiter_moving_the_deadline_is_kept() -> None:
    """The rate limiter sets the deadline to inf while a call queues and back (later) after it."""

    async def moved(pause: float) -> None:
        budget = CURRENT_BUDGET.get()
        assert budget is not None
        deadline = budget.deadline
        budget.deadline = math.inf
        await asyncio.sleep(pause)  # queued: no deadline
        budget.deadline = deadline + pause
        await asyncio.sleep(STALL)

    async def main() -> list[str]:
        ended: list[str] = []

        async def call(name: str, seconds: float, run: Any) -> None:
            with pytest.raises(TimeoutError):
                await run_within(seconds, run)
            ended.append(name)

        await asyncio.wait_for(
            asyncio.gather(
                call("moved 0.1 + 0.3 queued", 0.1, moved(0.3)),
                call("plain 0.25", 0.25, asyncio.sleep(STALL)),
            ),
            timeout=5,
        )
        return ended

    assert asyncio.run(main()) == ["plain 0.25", "moved 0.1 + 0.3 queued"]


def test_the_watchdog_keeps_no_event_loop_alive() -> None:
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def main() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        with pytest.raises(TimeoutError):
            await run_within(0.01, asyncio.sleep(STALL))
        await run_within(5, asyncio.sleep(0))  # arms the loop's timer for 5 s: still armed at close

    for _ in range(3):
        asyncio.run(main())
    gc.collect()
    assert [loop() for loop in loops] == [None, None, None]


def test_under_trio_the_budget_is_a_cancel_scope() -> None:
    async def main() -> float:
        with pytest.raises(TimeoutError):
            await run_within(0.05, trio.sleep(STALL))
        budget = None

        async def read() -> None:
            nonlocal budget
            budget = CURRENT_BUDGET.get()

        await run_within(5, read())
        assert budget is not None
        return float(budget.deadline - trio.current_time())

    assert 0 < trio.run(main) <= 5
