"""Fleets of real OS processes sharing one Redis, against FakeWise served by uvicorn on a loopback port.

FakeWise behaves like Wise where it matters here: a refresh rotates the pair and kills the old access
token, so two processes refreshing independently would invalidate each other. Each test prints the
figures it asserts (see the "fleet figures" section at the end of the pytest run). The token tests run on
both connection pools (aiohttp's, httpcore's); the lease and rate-limit tests, whose subject is Redis
timing above the pool, on the default one.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from bundle_paths import path_of
from redis import Redis as SyncRedis
from redis.asyncio import Redis as AsyncRedis

from wise_async import OAuthTokens, TokenKey
from wise_async.redis import RedisTokenStore
from wise_async.testing import FakeWise

from .conftest import report_figure
from .servers import RedisServer, ThreadedUvicorn, free_port, sliding_window_max, wait_until

WORKER = Path(__file__).with_name("worker.py")
CLIENT_ID, CLIENT_SECRET = "fleet-client", "fleet-secret"
FLEET = 8
UVICORN = [sys.executable, "-m", "uvicorn", "--app-dir", str(WORKER.parent)]


@dataclass
class Arrival:
    at: float
    path: str
    status: int = 0
    call: str = ""  # the worker's X-Call header


@dataclass
class ServedFake:
    """FakeWise behind uvicorn, with each request's arrival time (monotonic) and status recorded."""

    fake: FakeWise
    arrivals: list[Arrival] = field(default_factory=list)
    stall_token_requests: threading.Event = field(default_factory=threading.Event)
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    rate_limit_at: int | None = None  # answer this many-th request (1-based) with a 429
    retry_after: int = 2

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        arrival = Arrival(time.monotonic(), scope.get("path", ""))
        if scope["type"] == "http":
            arrival.call = dict(scope["headers"]).get(b"x-call", b"").decode()
            self.arrivals.append(arrival)
            if len(self.arrivals) == self.rate_limit_at:
                arrival.status = 429
                headers = [
                    (b"retry-after", str(self.retry_after).encode()),
                    (b"content-type", b"application/json"),
                ]
                await send({"type": "http.response.start", "status": 429, "headers": headers})
                await send({"type": "http.response.body", "body": b'{"error":"too many requests"}'})
                return
        if arrival.path == "/oauth/token" and self.stall_token_requests.is_set():
            # A refresh that hangs before Wise acts on it: its sender holds the refresh lease.
            self.stall_token_requests.clear()
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return

        async def recording_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                arrival.status = message["status"]
            await send(message)

        await self.fake.asgi_app(scope, receive, recording_send)

    def token_grants(self) -> list[Arrival]:
        return [a for a in self.arrivals if a.path == "/oauth/token" and a.status == 200]


@pytest.fixture
def served() -> Iterator[ServedFake]:
    fake = FakeWise()
    fake.add_client(CLIENT_ID, CLIENT_SECRET)
    served = ServedFake(fake)
    server = ThreadedUvicorn(served.app)
    served.url = server.url
    try:
        yield served
    finally:
        served.release.set()
        server.stop()


class Pool:
    """Worker processes (``worker.py``) that take jobs from Redis; started once, reused by scenarios."""

    def __init__(self, redis_url: str, count: int) -> None:
        self.redis_url = redis_url
        self.redis = SyncRedis.from_url(redis_url)
        self.jobs_key = f"test:jobs:{os.urandom(4).hex()}"
        self.processes = [
            subprocess.Popen(
                [sys.executable, str(WORKER), redis_url, self.jobs_key],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(count)
        ]

    def check_alive(self, except_pid: int | None = None) -> None:
        for process in self.processes:
            if process.pid != except_pid and process.poll() is not None:
                raise AssertionError(f"worker {process.pid} exited: {process.communicate()[1][-3000:]}")

    def run(self, options: dict[str, Any]) -> Job:
        """One job per worker: each takes one, and holds it (waiting for go) until all are taken."""
        return Job(self, options)

    def close(self) -> None:
        self.redis.rpush(self.jobs_key, *[json.dumps({"stop": True})] * len(self.processes))
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.redis.close()


class Job:
    def __init__(self, pool: Pool, options: dict[str, Any]) -> None:
        self.pool = pool
        nonce = os.urandom(4).hex()
        self.ready_key, self.go_key, self.result_key = (
            f"test:{name}:{nonce}" for name in ("ready", "go", "done")
        )
        job = {
            **options,
            "redis_url": pool.redis_url,
            "ready_key": self.ready_key,
            "go_key": self.go_key,
            "result_key": self.result_key,
        }
        self.count = len(pool.processes)
        pool.redis.rpush(pool.jobs_key, *[json.dumps(job)] * self.count)

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            self.pool.check_alive()
            return int(self.pool.redis.llen(self.ready_key)) >= self.count

        wait_until(ready, timeout=timeout, what="workers to be ready")

    def go(self) -> None:
        self.pool.redis.rpush(self.go_key, *["go"] * self.count)

    def results(self, timeout: float = 120, *, killed: int | None = None) -> list[dict[str, Any]]:
        expected = self.count - (killed is not None)
        deadline = time.monotonic() + timeout
        results: list[dict[str, Any]] = []
        while len(results) < expected:
            assert time.monotonic() < deadline, "timed out waiting for the workers' results"
            self.pool.check_alive(except_pid=killed)
            taken = self.pool.redis.blpop([self.result_key], timeout=1)
            if taken is not None:
                result = json.loads(taken[1])
                assert "crash" not in result, result.get("crash")
                results.append(result)
        return results


@pytest.fixture(scope="module")
def pool(redis_server: RedisServer) -> Iterator[Pool]:
    """Eight worker processes for the whole module: the fleet of the figures."""
    workers = Pool(redis_server.url, FLEET)
    try:
        yield workers
    finally:
        workers.close()


@pytest.fixture
def fleet(pool: Pool) -> Pool:
    pool.check_alive()
    pool.redis.flushdb()  # idle workers wait in BLPOP on an empty list: nothing of theirs is lost
    return pool


def seed_user_tokens(redis_url: str, fake: FakeWise, user_key: str) -> OAuthTokens:
    """What an app does at its OAuth callback: store the user's pair for every process."""
    issued = fake.issue_user_token(client_id=CLIENT_ID)
    tokens = OAuthTokens.from_response(issued, now=time.time())

    async def save() -> None:
        redis = AsyncRedis.from_url(redis_url)
        await RedisTokenStore(redis).save(TokenKey(CLIENT_ID, user_key), tokens)
        await redis.aclose()

    asyncio.run(save())
    return tokens


def job_options(served: ServedFake, mode: str, **extra: Any) -> dict[str, Any]:
    return {
        "mode": mode,
        "base_url": served.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **extra,
    }


def user_options(served: ServedFake, **extra: Any) -> dict[str, Any]:
    return job_options(served, "user", user_key="user-42", **extra)


def rate_options(served: ServedFake, **extra: Any) -> dict[str, Any]:
    return job_options(served, "rate", personal_token=served.fake.add_personal_token(), **extra)


def test_eight_processes_share_one_user_token_and_refresh_it_once(
    served: ServedFake, fleet: Pool, http_backend: str
) -> None:
    seed_user_tokens(fleet.redis_url, served.fake, "user-42")
    job = fleet.run(user_options(served, calls=50, warmup=1, http_backend=http_backend))
    job.wait_ready()
    assert served.fake.counters["grant:refresh_token"] == 0  # every warm-up call used the stored token

    served.fake.clock.advance(served.fake.access_token_ttl + 1)  # the server expires the access token
    job.go()
    results = job.results()

    refresh_grants = served.fake.counters["grant:refresh_token"]
    failed = sum(r["failed"] for r in results)
    hooks = sum(r["refreshes"] for r in results)
    calls = sum(r["ok"] + r["failed"] for r in results)
    report_figure(
        f"user token ({http_backend}), {FLEET} processes x 50 concurrent calls after expiry: "
        f"{refresh_grants} refresh grant(s) fleet-wide, {failed} failed of {calls} calls, "
        f"on_token_refresh called {hooks} time(s)"
    )
    assert [r["errors"] for r in results if r["failed"]] == []
    assert refresh_grants == 1
    assert failed == 0 and calls == FLEET * 51
    assert hooks == 1
    assert len({r["pid"] for r in results}) == FLEET


def test_killed_lease_holder_delays_the_fleet_by_at_most_the_lease(
    served: ServedFake, redis_server: RedisServer
) -> None:
    lease = 2.0
    doomed = Pool(redis_server.url, 4)  # its own workers: one of them is killed
    try:
        doomed.redis.flushdb()
        seed_user_tokens(redis_server.url, served.fake, "user-42")
        job = doomed.run(user_options(served, calls=20, lease=lease))
        job.wait_ready()
        served.fake.clock.advance(served.fake.access_token_ttl + 1)
        served.stall_token_requests.set()
        job.go()

        wait_until(served.stalled.is_set, timeout=30, what="a refresh to reach the server")
        lease_key = RedisTokenStore(AsyncRedis.from_url(redis_server.url)).lease_name(
            TokenKey(CLIENT_ID, "user-42")
        )
        holder = doomed.redis.get(lease_key)
        assert holder is not None, "the process whose refresh is in flight must hold the lease"
        holder_pid = int(holder.decode().split(":")[1])
        assert holder_pid in {p.pid for p in doomed.processes}
        os.kill(holder_pid, signal.SIGKILL)
        killed_at = time.monotonic()
        results = job.results(killed=holder_pid)
    finally:
        doomed.close()
    grants = served.token_grants()
    assert len(grants) == 1, "exactly one refresh succeeded after the holder died"
    delay = grants[0].at - killed_at
    failed = sum(r["failed"] for r in results)
    report_figure(
        f"SIGKILLed lease holder (lease {lease:.1f} s): another process refreshed {delay:.2f} s after "
        f"the kill (bound: lease + 1 s = {lease + 1:.1f} s); {failed} failed calls among the "
        f"{len(results)} survivors"
    )
    assert delay <= lease + 1.0
    assert failed == 0 and sum(r["refreshes"] for r in results) == 1


def test_client_credentials_token_is_fetched_once_for_the_fleet(
    served: ServedFake, fleet: Pool, http_backend: str
) -> None:
    job = fleet.run(job_options(served, "client", calls=10, http_backend=http_backend))
    job.wait_ready()
    job.go()
    results = job.results()
    grants = served.fake.counters["grant:client_credentials"]
    failed = sum(r["failed"] for r in results)
    report_figure(
        f"client credentials ({http_backend}), {FLEET} processes x 10 concurrent calls: {grants} grant(s) "
        f"for the fleet, {failed} failed calls"
    )
    assert [r["errors"] for r in results if r["failed"]] == []
    assert grants == 1 and failed == 0


def test_fleet_wide_rate_limit_holds_in_every_one_second_window(served: ServedFake, fleet: Pool) -> None:
    rate, burst, calls = 100, 10, 500
    options = rate_options(served, rate=rate, burst=burst, calls=calls, concurrency=50)
    job = fleet.run(options)
    job.wait_ready()
    served.arrivals.clear()
    started = time.monotonic()
    job.go()
    results = job.results(timeout=300)
    elapsed = time.monotonic() - started
    times = [a.at for a in served.arrivals if a.path == path_of("profileList")]
    busiest = sliding_window_max(times, 1.0)
    sent = sliding_window_max([at for r in results for at in r["sent"]], 1.0)
    failed = sum(r["failed"] for r in results)
    report_figure(
        f"rate limiter, {FLEET} processes x {calls} calls at {rate}/s (burst {burst}): the server saw at "
        f"most {busiest} requests in any 1 s window (bound {rate + burst}; clients sent at most {sent}), "
        f"{len(times)} requests in {elapsed:.1f} s, {failed} failed calls"
    )
    assert failed == 0 and len(times) == FLEET * calls
    # What the limiter governs: when each request leaves a worker, stamped as its slot is granted.
    assert sent <= rate + burst
    # The server's clock adds the loopback and uvicorn queue on a 2-core machine running 8 workers:
    # requests that left in order can arrive bunched (seen: 137 arrivals in a window while the clients sent
    # at most 105). Unlimited, the fleet sends its 4000 requests in a few seconds; the limit must show here.
    assert busiest <= 2 * (rate + burst)


def test_a_429_pauses_the_whole_fleet_even_requests_already_holding_slots(
    served: ServedFake, fleet: Pool
) -> None:
    rate, burst, calls, retry_after = 100, 10, 64, 2
    # all queued at once (no concurrency limit): every slot is granted before the 429
    options = rate_options(served, rate=rate, burst=burst, calls=calls)
    job = fleet.run(options)
    job.wait_ready()
    served.arrivals.clear()
    served.rate_limit_at, served.retry_after = 100, retry_after  # about 1 s in, ~400 slots still ahead
    job.go()
    results = job.results(timeout=120)
    (answered,) = [a for a in served.arrivals if a.status == 429]
    ((told, shared),) = [p for r in results for p in r["penalized"]]  # one worker saw the 429
    # The pause, on this host's monotonic clock: from the moment the worker that got the 429 had shared
    # it in Redis, until Retry-After after the server answered it.
    pause_end = answered.at + retry_after
    during = [a for a in served.arrivals if shared <= a.at < pause_end]
    left = {call: at for r in results for call, at in r["left"]}  # each call's last pass of the limiter
    sent_during = [a for a in during if left[a.call] >= shared]
    after_answer = [a for a in served.arrivals if answered.at < a.at < pause_end]
    failed = sum(r["failed"] for r in results)
    report_figure(
        f"429 (Retry-After: {retry_after}) with {FLEET} processes x {calls} queued calls at {rate}/s: "
        f"{len(during)} requests reached the server during the pause ({len(sent_during)} sent after it "
        f"was shared, {(shared - answered.at) * 1000:.1f} ms after the 429 was answered; any other had "
        "left before); "
        f"{len(after_answer)} arrived between the 429 and the pause's end; {failed} failed calls"
    )
    assert [r["errors"] for r in results if r["failed"]] == []
    # What a client can do: nothing leaves once the 429 is known (a request already on the wire may
    # still arrive; seen: 0 or 1 of them, a few ms after the 429).
    assert sent_during == []
    assert len(during) <= 2
    assert len(served.arrivals) == FLEET * calls + 1  # every call, and the rate-limited one again
    assert told < shared


def test_fleet_on_a_redis_that_freezes_dies_and_returns(served: ServedFake, fleet: Pool) -> None:
    """The components' Redis (not the one the test drives the workers with) is frozen, thawed, killed
    and restarted while 8 processes call Wise through the token store and the limiter, read the store
    and mark webhook deliveries."""
    budget, timeout = 1.0, 2.0  # the component timeout: shorter than the freeze
    with RedisServer() as components:  # the components' Redis, frozen and killed below
        seed_user_tokens(components.url, served.fake, "user-42")
        options = job_options(
            served, "outage", user_key="user-42", components_url=components.url, rate=200, burst=10
        )
        # three loops per process, each starting at another kind: every kind is in flight at any time
        options.update(
            budget=budget, component_timeout=timeout, seconds=8.5, concurrency=len(KINDS), pause=0.1
        )
        job = fleet.run(options)
        job.wait_ready()
        job.go()
        time.sleep(1.0)
        frozen = time.monotonic()
        components.freeze()
        time.sleep(3.0)
        components.thaw()
        thawed = time.monotonic()
        time.sleep(1.0)
        killing = time.monotonic()
        components.kill()
        killed = time.monotonic()
        time.sleep(1.0)
        restarting = time.monotonic()
        components.restart()  # empty: the workers still hold the user's token
        restarted = time.monotonic()
        results = job.results(timeout=60)
    records = [Outage(*r) for result in results for r in result["outages"]]
    longest = {
        kind: max(r.duration for r in records if r.kind == kind and r.during(frozen, thawed))
        for kind in KINDS
    }
    # ops that began while Redis was frozen and had to end before it thawed; or began while it was dead
    frozen_errors = {r.outcome for r in records if r.during(frozen, thawed - timeout)}
    killed_errors = {r.outcome for r in records if r.during(killed, restarting)}
    after = [
        r
        for r in records
        if (r.started >= thawed + 0.5 and r.started + r.duration < killing) or r.started >= restarted + 0.5
    ]
    untyped = [r for r in records if r.outcome.startswith("untyped:")]
    report_figure(
        f"{FLEET} processes on a Redis frozen for 3 s then killed for 1 s: {len(records)} operations, "
        f"{len(untyped)} untyped errors; while frozen the longest call took {longest['call']:.2f} s (budget "
        f"{budget:g} s), store read {longest['store']:.2f} s and dedupe mark {longest['dedupe']:.2f} s "
        f"(timeout {timeout:g} s), raising {sorted(frozen_errors)}; while killed {sorted(killed_errors)}; "
        f"after Redis returned {sum(r.outcome == 'ok' for r in after)}/{len(after)} succeeded"
    )
    assert untyped == []
    assert longest["call"] <= budget + 1
    assert longest["store"] <= timeout + 1 and longest["dedupe"] <= timeout + 1
    assert frozen_errors == {"APITimeoutError", "TokenStoreError", "CoordinationError"}
    assert killed_errors == {"CoordinationError", "TokenStoreError"}  # a call: from its rate limiter
    assert after and [r for r in after if r.outcome != "ok"] == []


KINDS = ("call", "store", "dedupe")


@dataclass
class Outage:
    kind: str
    started: float
    duration: float
    outcome: str
    message: str

    def during(self, start: float, end: float) -> bool:
        return start <= self.started < end


def test_one_delivery_posted_to_four_processes_is_processed_once(redis_server: RedisServer) -> None:
    fake = FakeWise()
    env = {
        **os.environ,
        "WISE_TEST_REDIS_URL": redis_server.url,
        "WISE_TEST_WEBHOOK_KEY": fake.webhooks.public_key_b64,
    }
    ports = [free_port() for _ in range(4)]
    apps = [
        subprocess.Popen(
            [
                *UVICORN,
                "webhook_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for port in ports
    ]
    try:

        async def post_everywhere() -> list[dict[str, Any]]:
            async with httpx.AsyncClient(timeout=30) as http:
                for port in ports:  # wait until each process answers
                    for _ in range(300):
                        try:
                            await http.get(f"http://127.0.0.1:{port}/health")
                            break
                        except httpx.TransportError:
                            await asyncio.sleep(0.05)
                delivery = fake.webhooks.delivery(
                    "transfers#state-change", {"current_state": "outgoing_payment_sent"}
                )
                responses = await asyncio.gather(
                    *(
                        http.post(
                            f"http://127.0.0.1:{port}/wise/webhooks",
                            content=delivery.body,
                            headers=delivery.headers,
                        )
                        for port in ports
                    )
                )
                redis = AsyncRedis.from_url(redis_server.url)
                processed = int(await redis.get(f"processed:{delivery.delivery_id}") or 0)
                await redis.aclose()
                return [{"processed_count": processed}] + [
                    r.json() | {"status": r.status_code} for r in responses
                ]

        counted, *answers = asyncio.run(post_everywhere())
    finally:
        for app in apps:
            app.terminate()
        for app in apps:
            app.wait(timeout=15)
    pids = {a["pid"] for a in answers}
    handled = sum(a["processed"] for a in answers)
    report_figure(
        f"webhook dedupe: one delivery posted to {len(pids)} processes at once -> processed "
        f"{counted['processed_count']} time(s), {len(answers) - handled} answered as duplicates"
    )
    assert all(a["status"] == 200 for a in answers)
    assert len(pids) == 4
    assert counted["processed_count"] == 1 and handled == 1
