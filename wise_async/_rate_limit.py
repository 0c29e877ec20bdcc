"""Opt-in client-side rate limiting: one interface, an in-process limiter, and the transport that uses it.

Both limiters (this one and ``wise_async.redis.RedisRateLimiter``) are the same token bucket written as
GCRA ("virtual scheduling"): the bucket keeps one number, the theoretical arrival time ``tat`` of the
next request. A request arriving at ``now`` is given the slot ``max(now, tat - tolerance)`` and moves
``tat`` on by ``1 / rate``. Slots are handed out in arrival order, so waiters queue fairly (first come,
first served) and each request costs one atomic step, however many are waiting.

The guarantee is about when requests *leave*: in any window of ``w`` seconds at most
``rate * w + burst`` are sent. A task rarely wakes up exactly at its slot (a busy event loop, a
descheduled process, a GC pause), and late senders bunch up. So half of the burst's headroom is kept
as slack: a waiter may send up to ``slack`` after its slot (at least half an interval); one that wakes
up later takes a new slot instead of sending late. The other half is the burst available at once.

A 429 from Wise calls :meth:`RateLimiter.penalize`: no slot is handed out before ``Retry-After`` has
passed, then requests resume at the configured rate (the burst refills as usual).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

import httpx

from ._budget import CURRENT_BUDGET, sleep_with_anyio
from ._hooks import note_rate_limit_wait
from ._redaction import get_logger
from ._retry import parse_retry_after

__all__ = ["InProcessRateLimiter", "RateLimitedTransport", "RateLimiter"]

MAX_RESERVATIONS = 5  # a waiter that woke up too late this many times sends at its last slot anyway
DEFAULT_PENALTY = 1.0  # seconds of silence after a 429 that carried no Retry-After
logger = get_logger("rate_limit")


@runtime_checkable
class RateLimiter(Protocol):
    """Paces requests per bucket (``WiseClient`` uses its client id as the bucket)."""

    async def acquire(self, bucket: str) -> None:
        """Wait for this request's slot."""
        ...

    async def penalize(self, bucket: str, seconds: float) -> None:
        """Wise answered 429: hand out no slot for ``seconds``."""
        ...


async def wait_for_slot(
    reserve: Callable[[], Awaitable[float]],
    *,
    lateness: float,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    """Reserve a slot and sleep until it; reserve again if this task woke up too late to use it.

    The wait is counted from the limiter's answer, so a request never leaves before its slot. A task
    that keeps waking up late (a starved process) sends after ``MAX_RESERVATIONS`` tries rather than
    waiting forever.
    """
    for _ in range(MAX_RESERVATIONS - 1):
        wait = await reserve()
        slot = clock() + wait
        while (now := clock()) < slot:
            await sleep(slot - now)
        if now - slot <= lateness:
            return
        logger.debug("woke %.3fs after its slot; taking a new one", now - slot)
    await sleep(await reserve())


def bucket_timing(rate: float, burst: int) -> tuple[float, float, float]:
    """(interval, tolerance, lateness) in seconds for ``rate`` requests/s and ``burst``: slots are
    ``interval`` apart, up to ``tolerance`` early, and may be used up to ``lateness`` late."""
    if not rate > 0:
        raise ValueError("rate must be a positive number of requests per second")
    if burst < 1:
        raise ValueError("burst must be at least 1")
    interval = 1.0 / rate
    slack = (burst - 1) * interval / 2
    return interval, (burst - 1) * interval - slack, max(slack, interval / 2)


class InProcessRateLimiter:
    """Token bucket in this process: at most ``rate * w + burst`` requests in any ``w`` seconds; about
    half the burst goes at once, the other half absorbs late wake-ups (see the module docstring).

    Share one instance between the clients of one process; use ``RedisRateLimiter`` for a fleet.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = sleep_with_anyio,
    ) -> None:
        self._interval, self._tolerance, self._lateness = bucket_timing(rate, burst)
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tat: dict[str, float] = {}
        # Reservations never await: a thread lock serves asyncio, trio and threads alike.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"InProcessRateLimiter(rate={self.rate}, burst={self.burst})"

    def reserve(self, bucket: str) -> float:
        """Take the next slot of ``bucket``; returns how many seconds to wait for it."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat.get(bucket, now), now)
            start = max(now, tat - self._tolerance)
            self._tat[bucket] = tat + self._interval
            return start - now

    async def acquire(self, bucket: str) -> None:
        async def reserve() -> float:
            return self.reserve(bucket)

        await wait_for_slot(reserve, lateness=self._lateness, clock=self._clock, sleep=self._sleep)

    async def penalize(self, bucket: str, seconds: float) -> None:
        with self._lock:
            now = self._clock()
            resume = now + max(seconds, 0.0) + self._tolerance
            self._tat[bucket] = max(self._tat.get(bucket, now), resume)


class RateLimitedTransport(httpx.AsyncBaseTransport):
    """Takes a slot before each attempt reaches the network; reports 429s back to the limiter.

    It sits below ``RetryingTransport``, so retries are paced too, and the retry decision stays there.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport, limiter: RateLimiter, *, bucket: str) -> None:
        from anyio import current_time  # loaded with the first client that paces its calls

        self._transport = transport
        self._limiter = limiter
        self._bucket = bucket
        self._now = current_time

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # Time queued here is the app's own pacing, not the call's budget: the deadline waits with us.
        budget = CURRENT_BUDGET.get()
        queued_at, deadline = self._now(), budget.deadline if budget is not None else None
        if budget is not None:
            budget.deadline = math.inf
        try:
            await self._limiter.acquire(self._bucket)
        finally:
            if budget is not None and deadline is not None:
                budget.deadline = deadline + (self._now() - queued_at)
        note_rate_limit_wait(self._now() - queued_at)
        response = await self._transport.handle_async_request(request)
        if response.status_code == 429:
            seconds = parse_retry_after(response.headers)
            seconds = DEFAULT_PENALTY if seconds is None else seconds
            logger.warning("429 from Wise: pausing bucket %r for %.2fs", self._bucket, seconds)
            await self._limiter.penalize(self._bucket, seconds)
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()
