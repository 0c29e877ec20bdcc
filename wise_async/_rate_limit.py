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
passed, then requests resume at the configured rate (the burst refills as usual). Requests already
holding a slot inside the pause (granted before the 429) check again when they wake up and take a new
slot after it: nothing leaves during the pause.

Only the sleep until a slot is the app's own pacing and outside the call's budget; asking the limiter
(a Redis round trip) is inside it, so a limiter that does not answer cannot hold a call past its budget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

import httpx

from ._budget import CURRENT_BUDGET, sleep_with_anyio
from ._exceptions import CoordinationError
from ._hooks import note_rate_limit_wait
from ._redaction import get_logger
from ._retry import parse_retry_after

__all__ = ["InProcessRateLimiter", "RateLimitedTransport", "RateLimiter", "sleep_queued"]

MAX_RESERVATIONS = 5  # a waiter that woke up too late this many times sends at its last slot anyway
DEFAULT_PENALTY = 1.0  # seconds of silence after a 429 that carried no Retry-After
logger = get_logger("rate_limit")


@runtime_checkable
class RateLimiter(Protocol):
    """Paces requests per bucket (``WiseClient`` uses its client id as the bucket)."""

    async def acquire(self, bucket: str) -> None:
        """Wait for this request's slot. It runs inside the call's budget (the limiters of wise_async
        keep the sleep until the slot out of it, see :func:`sleep_queued`)."""
        ...

    async def penalize(self, bucket: str, seconds: float) -> None:
        """Wise answered 429: hand out no slot for ``seconds``."""
        ...


async def sleep_queued(seconds: float, sleep: Callable[[float], Awaitable[None]] = sleep_with_anyio) -> None:
    """Sleep until a rate-limit slot with the running call's deadline held back: time queued is the app's
    own pacing, not the call's budget, and the deadline moves on by the time slept."""
    budget = CURRENT_BUDGET.get()
    if budget is None or seconds <= 0:
        await sleep(seconds)
        return
    from anyio import current_time  # the budget's clock (the event loop's); loaded with the first client

    queued_at, deadline = current_time(), budget.deadline
    budget.deadline = float("inf")
    try:
        await sleep(seconds)
    finally:
        budget.deadline = deadline + (current_time() - queued_at)


async def wait_for_slot(
    reserve: Callable[[], Awaitable[float]],
    *,
    recheck: Callable[[], Awaitable[float | None]],
    lateness: float,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    """Reserve a slot and sleep until it; reserve again if this task woke up too late to use it.

    The wait is counted from the limiter's answer, so a request never leaves before its slot. A task
    that slept asks ``recheck`` before it goes: a 429 may have paused the bucket meanwhile, and then
    ``recheck`` has taken a slot after the pause (its wait is returned). Lateness is judged after that
    round trip; a task that keeps being late (a starved process) sends after ``MAX_RESERVATIONS``
    tries rather than waiting forever.
    """
    wait = await reserve()
    reservations = 1
    while wait > 0:
        slot = clock() + wait
        while (now := clock()) < slot:
            await sleep_queued(slot - now, sleep)
        paused = await recheck()
        if paused is not None:
            logger.debug("the bucket was paused (a 429) while waiting; next slot in %.3fs", paused)
            wait = paused
            continue
        late = clock() - slot  # after the recheck's round trip: that is when the request leaves
        if late <= lateness or reservations >= MAX_RESERVATIONS:
            return
        logger.debug("%.3fs past its slot; taking a new one", late)
        wait = await reserve()
        reservations += 1


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
        self._paused_until: dict[str, float] = {}
        # Reservations never await: a thread lock serves asyncio, trio and threads alike.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"InProcessRateLimiter(rate={self.rate}, burst={self.burst})"

    def reserve(self, bucket: str) -> float:
        """Take the next slot of ``bucket``; returns how many seconds to wait for it."""
        with self._lock:
            return self._reserve(bucket, self._clock())

    def _reserve(self, bucket: str, now: float) -> float:
        tat = max(self._tat.get(bucket, now), now)
        start = max(now, tat - self._tolerance)
        self._tat[bucket] = tat + self._interval
        return start - now

    def recheck(self, bucket: str) -> float | None:
        """None if no pause is in force; else the wait for a new slot, taken after the pause."""
        with self._lock:
            now = self._clock()
            if self._paused_until.get(bucket, now) <= now:
                return None
            return self._reserve(bucket, now)

    async def acquire(self, bucket: str) -> None:
        async def reserve() -> float:
            return self.reserve(bucket)

        async def recheck() -> float | None:
            return self.recheck(bucket)

        await wait_for_slot(
            reserve, recheck=recheck, lateness=self._lateness, clock=self._clock, sleep=self._sleep
        )

    async def penalize(self, bucket: str, seconds: float) -> None:
        with self._lock:
            now = self._clock()
            paused_until = now + max(seconds, 0.0)
            self._paused_until[bucket] = max(self._paused_until.get(bucket, now), paused_until)
            self._tat[bucket] = max(self._tat.get(bucket, now), paused_until + self._tolerance)


class RateLimitedTransport(httpx.AsyncBaseTransport):
    """Takes a slot before each attempt reaches the network; reports 429s back to the limiter.

    It sits below ``RetryingTransport``, so retries are paced too, and the retry decision stays there.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport, limiter: RateLimiter, *, bucket: str) -> None:
        self._transport = transport
        self._limiter = limiter
        self._bucket = bucket

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        queued_at = time.monotonic()
        await self._limiter.acquire(self._bucket)
        note_rate_limit_wait(time.monotonic() - queued_at)
        response = await self._transport.handle_async_request(request)
        if response.status_code == 429:
            seconds = parse_retry_after(response.headers)
            seconds = DEFAULT_PENALTY if seconds is None else seconds
            logger.warning("429 from Wise: pausing bucket %r for %.2fs", self._bucket, seconds)
            try:
                await self._limiter.penalize(self._bucket, seconds)
            except CoordinationError as exc:  # the 429 itself is still honoured by the retry
                logger.warning("the pause could not be shared: %s", exc)
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()
