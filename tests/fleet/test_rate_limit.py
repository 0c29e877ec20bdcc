"""Rate limiters: the in-process token bucket (on a fake clock) and the Redis one (on a real server)."""

from __future__ import annotations

import itertools

import anyio
import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from wise_async import CoordinationError, InProcessRateLimiter, RateLimiter, WiseClient
from wise_async.redis import RedisRateLimiter
from wise_async.testing import FakeWise

from .servers import free_port


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_lets_the_burst_through_then_spaces_requests_by_the_rate() -> None:
    limiter = InProcessRateLimiter(10, burst=5, clock=lambda: 0.0)
    waits = [limiter.reserve("client") for _ in range(6)]
    # half the burst's headroom goes at once (3), the other half is slack for late wake-ups
    assert waits == pytest.approx([0, 0, 0, 0.1, 0.2, 0.3])
    assert limiter.reserve("other-client") == 0  # buckets are per client


def test_slots_are_handed_out_in_arrival_order() -> None:
    limiter = InProcessRateLimiter(100, burst=1, clock=lambda: 0.0)
    waits = [limiter.reserve("client") for _ in range(50)]
    assert waits == sorted(waits) and len(set(waits)) == 50  # first come, first served, no ties


def test_the_bucket_refills_at_the_rate_up_to_the_burst() -> None:
    now = [0.0]
    limiter = InProcessRateLimiter(10, burst=3, clock=lambda: now[0])
    assert [limiter.reserve("c") for _ in range(3)] == pytest.approx([0, 0, 0.1])
    now[0] = 10.0  # long idle: only the burst is available again, not 100 requests
    assert [limiter.reserve("c") for _ in range(3)] == pytest.approx([0, 0, 0.1])


async def test_penalty_holds_every_slot_until_retry_after_then_resumes_at_the_rate() -> None:
    time = FakeTime()
    limiter = InProcessRateLimiter(10, burst=5, clock=time.clock, sleep=time.sleep)
    assert isinstance(limiter, RateLimiter)
    await limiter.penalize("c", 2.0)
    await limiter.acquire("c")
    assert time.now == pytest.approx(102.0)
    await limiter.acquire("c")
    assert time.now == pytest.approx(102.1)  # no burst right after the penalty: rate-paced


async def test_a_waiter_that_wakes_up_late_takes_a_new_slot_instead_of_bunching() -> None:
    time = FakeTime()

    async def oversleep(seconds: float) -> None:  # a descheduled process wakes up 0.3 s late
        time.slept.append(seconds)
        time.now += seconds + 0.3

    limiter = InProcessRateLimiter(10, burst=1, clock=time.clock, sleep=oversleep)
    limiter.reserve("c")  # the next slot is 0.1 s away
    await limiter.acquire("c")  # wakes at +0.4, 0.3 s after its slot: takes a new slot (free: now)
    assert time.slept == pytest.approx([0.1])
    assert time.now == pytest.approx(100.4)
    assert limiter.reserve("c") == pytest.approx(0.1)  # the missed slot was not reused by a bunch


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(ValueError):
        InProcessRateLimiter(0)
    with pytest.raises(ValueError):
        InProcessRateLimiter(10, burst=0)


# ----------------------------------------------------------------------------------- Redis, one bucket


async def test_redis_bucket_is_shared_by_every_limiter_on_the_server(redis: Redis) -> None:
    first = RedisRateLimiter(redis, rate=10, burst=3)
    second = RedisRateLimiter(redis, rate=10, burst=3)  # as if in another process
    assert isinstance(first, RateLimiter)
    waits = [await limiter.reserve("client") for limiter in (first, second, first, second)]
    assert waits[:2] == [0, 0]
    # 0.1 s apart on Redis's clock, less the few microseconds between the calls
    assert waits[2] == pytest.approx(0.1, abs=0.02) and waits[3] == pytest.approx(0.2, abs=0.02)
    assert await first.reserve("another-client") == 0


async def test_redis_penalty_pauses_the_bucket_for_every_process(redis: Redis) -> None:
    seen_429 = RedisRateLimiter(redis, rate=100, burst=10)
    elsewhere = RedisRateLimiter(redis, rate=100, burst=10)
    await seen_429.penalize("client", 1.5)
    assert await elsewhere.reserve("client") == pytest.approx(1.5, abs=0.05)
    assert await elsewhere.reserve("client") == pytest.approx(1.51, abs=0.05)
    assert await elsewhere.reserve("other") == 0


async def test_redis_bucket_state_is_one_key_that_expires_when_idle(redis: Redis) -> None:
    limiter = RedisRateLimiter(redis, rate=10, burst=1, prefix="rl:")
    await limiter.reserve("client")
    assert await redis.keys("rl:*") == [b"rl:client"]
    assert 0 < await redis.pttl("rl:client") <= 1200


async def test_client_paces_requests_and_a_429_pauses_the_others(redis: Redis) -> None:
    fake = FakeWise()
    token = fake.add_personal_token()
    limiter = RedisRateLimiter(redis, rate=50, burst=1)
    fake.faults.rate_limit(retry_after=1, times=1)
    async with WiseClient(personal_token=token, transport=fake.transport(), rate_limiter=limiter) as wise:
        started = anyio.current_time()
        await wise.profiles.list()  # 429 (Retry-After: 1) -> penalty -> retried after it -> 200
        assert anyio.current_time() - started >= 1.0
        assert [r.status for r in fake.requests] == [429, 200]
        # Another client on the same bucket is held back by the penalty too.
        await limiter.penalize("default", 0.5)
        started = anyio.current_time()
        await wise.profiles.list()
        assert anyio.current_time() - started >= 0.45


async def test_unreachable_redis_is_a_typed_error_and_nothing_is_sent_unless_fail_open() -> None:
    fake = FakeWise()
    down = Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))  # nothing listens
    token = fake.add_personal_token()
    async with WiseClient(
        personal_token=token, transport=fake.transport(), rate_limiter=RedisRateLimiter(down, rate=1)
    ) as wise:
        with pytest.raises(CoordinationError, match="rate limiter: ConnectionError"):
            await wise.profiles.list()
    assert fake.counters["profileList"] == 0
    open_limiter = RedisRateLimiter(down, rate=1, burst=1, fail_open=True)
    async with WiseClient(
        personal_token=token, transport=fake.transport(), rate_limiter=open_limiter
    ) as wise:
        await wise.profiles.list()  # sent without a slot (logged): Wise's own 429s still hold
        await wise.profiles.list()
    assert fake.counters["profileList"] == 2
    await down.aclose()


class Departures:
    """When each request passed the limiter, and when a 429's pause was recorded."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.left: list[float] = []

    async def request(self) -> None:
        await self.limiter.acquire("client")
        self.left.append(anyio.current_time())


@pytest.mark.parametrize("kind", ["in-process", "redis"])
async def test_slots_granted_before_a_429_are_not_used_during_its_pause(kind: str, redis: Redis) -> None:
    rate, pause, queued = 20, 0.5, 10
    limiter = InProcessRateLimiter(rate) if kind == "in-process" else RedisRateLimiter(redis, rate=rate)
    departures = Departures(limiter)
    async with anyio.create_task_group() as tasks:
        for _ in range(queued):  # slots 0, 50 ms, ... 450 ms: all granted at once
            tasks.start_soon(departures.request)
        await anyio.sleep(0.12)  # two or three have left
        answered_429 = anyio.current_time()
        await limiter.penalize("client", pause)
        shared = anyio.current_time()
    during = [at for at in departures.left if shared <= at < answered_429 + pause]
    assert len(departures.left) == queued
    assert during == []  # before the fix: the requests holding slots inside the pause went out
    resumed = sorted(at for at in departures.left if at >= shared)
    assert 2 <= queued - len(resumed) <= 3 and resumed[0] >= answered_429 + pause - 0.01
    # then at the rate again, no burst of the held-back requests
    assert min(b - a for a, b in itertools.pairwise(resumed)) >= 1 / rate - 0.02
