"""Every crash point of ``payouts.send`` over real sockets: FakeWise under uvicorn, faults at the socket,
and a worker process SIGKILLed between steps. After each, calling again with the same key must leave
exactly one transfer, one funding and the balance debited once.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fleet.servers import RedisServer, free_port
from loopback.servers import Answer, Exchange, Fault, FaultProxy, close_before_headers, serve_in_thread
from redis.asyncio import Redis

from wise_async import WiseClient, WiseError
from wise_async.payouts import PayoutError, PayoutInProgressError, Payouts, PayoutStep
from wise_async.redis import RedisPayoutStore
from wise_async.testing import FakeClock, FakeWise

from .conftest import AMOUNT, CRASH_POINTS, Bank, open_bank, private_pem

WORKER = Path(__file__).with_name("payout_worker.py")
STEPS: list[PayoutStep] = ["quoted", "transfer_requested", "transfer_created", "funding_sent", "funded"]
REQUESTS = {  # the payout's money-moving requests, told apart at the socket
    "quoteCreate": lambda e: e.method == "POST" and e.path.endswith("/quotes"),
    "transferCreate": lambda e: e.method == "POST" and e.path.split("?")[0].endswith("/transfers"),
    # the signed attempt (the first is answered with the SCA challenge and moves nothing)
    "transferFund": lambda e: e.path.endswith("/payments") and "x-2fa-approval" in e.headers,
}
FAULTS = {
    "connection cut before the request": lambda: close_before_headers(forward=False),
    "answer lost after commit": lambda: close_before_headers(forward=True),
}


def once_on(request: str, fault: Fault) -> Fault:
    """``fault`` for the first request matching ``request``; everything else goes through untouched."""
    fired = False

    def armed(exchange: Exchange, upstream: Any) -> tuple[bytes, bool]:
        nonlocal fired
        if fired or not REQUESTS[request](exchange):
            answer: Answer = upstream()
            return answer.head() + answer.body, False
        fired = True
        return fault(exchange, upstream)

    return armed


@pytest.fixture
def served_bank(rsa_key: rsa.RSAPrivateKey) -> Iterator[tuple[Bank, FaultProxy]]:
    bank = open_bank(rsa_key, FakeWise(clock=FakeClock(time.time())))
    with serve_in_thread(bank.fake.asgi_app) as url, FaultProxy(url) as proxy:
        yield bank, proxy


def assert_one_transfer_one_funding(bank: Bank) -> None:
    bodies = [r.json() for r in bank.fake.calls("transferCreate")]
    assert all(body == bodies[0] for body in bodies)  # every attempt was the first one's exact request
    assert all(r.status != 409 for r in bank.fake.calls("transferCreate"))
    assert (len(bank.fake.transfers), bank.fundings(), bank.debited()) == (1, 1, AMOUNT)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("request_name", REQUESTS)
async def test_a_fault_at_each_request_then_the_same_key_again(
    served_bank: tuple[Bank, FaultProxy], rsa_key: rsa.RSAPrivateKey, request_name: str, fault: str
) -> None:
    bank, proxy = served_bank
    CRASH_POINTS["total"] += 1
    proxy.add(once_on(request_name, FAULTS[fault]()), times=None)
    async with bank.client(rsa_key, transport=None, base_url=proxy.url) as wise:
        with contextlib.suppress(WiseError):  # the caller is told; nothing is lost by calling again
            await wise.payouts.send(bank.profile_id, **bank.payout())
        result = await wise.payouts.send(bank.profile_id, **bank.payout())
    assert result.transfer.status == "processing"
    assert_one_transfer_one_funding(bank)
    CRASH_POINTS["passed"] += 1


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        yield server
    finally:
        server.stop()


def worker_job(
    bank: Bank, proxy: FaultProxy, redis_server: RedisServer, key: rsa.RSAPrivateKey
) -> dict[str, Any]:
    return {
        "base_url": proxy.url,
        "token": bank.token,
        "profile_id": bank.profile_id,
        "payout": {**bank.payout(), "source_amount": str(AMOUNT)},
        "redis_url": redis_server.url,
        "pem": private_pem(key).decode(),
        "kill_at": None,
    }


async def resume_in_this_process(
    bank: Bank, proxy: FaultProxy, redis_server: RedisServer, key: rsa.RSAPrivateKey
) -> None:
    time.sleep(0.6)  # the dead worker's lease lapses (0.5 s)
    redis = Redis.from_url(redis_server.url)
    async with bank.client(key, transport=None, base_url=proxy.url) as wise:
        result = await Payouts(wise, store=RedisPayoutStore(redis)).send(bank.profile_id, **bank.payout())
    await redis.aclose()
    assert result.transfer.status == "processing"
    assert_one_transfer_one_funding(bank)


@pytest.fixture
async def empty_redis(redis_server: RedisServer) -> RedisServer:
    redis = Redis.from_url(redis_server.url)
    await redis.flushdb()
    await redis.aclose()
    return redis_server


@pytest.mark.parametrize("step", STEPS)
async def test_a_process_killed_after_each_step_then_the_same_key_again(
    served_bank: tuple[Bank, FaultProxy],
    rsa_key: rsa.RSAPrivateKey,
    empty_redis: RedisServer,
    step: PayoutStep,
) -> None:
    bank, proxy = served_bank
    CRASH_POINTS["total"] += 1
    job = {**worker_job(bank, proxy, empty_redis, rsa_key), "kill_at": step}
    worker = subprocess.run([sys.executable, str(WORKER), json.dumps(job)], capture_output=True, timeout=60)
    assert worker.returncode == -9, worker.stderr.decode()[-2000:]  # SIGKILL, mid-payout
    await resume_in_this_process(bank, proxy, empty_redis, rsa_key)
    CRASH_POINTS["passed"] += 1


@pytest.mark.parametrize("request_name", REQUESTS)
async def test_a_process_killed_while_wise_commits_each_request_then_the_same_key_again(
    served_bank: tuple[Bank, FaultProxy],
    rsa_key: rsa.RSAPrivateKey,
    empty_redis: RedisServer,
    request_name: str,
) -> None:
    """The worker dies with its request in flight: Wise acted on it, the answer has nobody to reach."""
    bank, proxy = served_bank
    CRASH_POINTS["total"] += 1
    running: list[subprocess.Popen[bytes]] = []

    def commit_then_kill(exchange: Exchange, upstream: Any) -> tuple[bytes, bool]:
        upstream()  # Wise commits
        running[0].kill()  # SIGKILL before the answer is written
        running[0].wait()
        return b"", True

    proxy.add(once_on(request_name, commit_then_kill), times=None)
    job = worker_job(bank, proxy, empty_redis, rsa_key)
    worker = subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(job)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    running.append(worker)
    _, stderr = worker.communicate(timeout=60)
    assert worker.returncode == -9, stderr.decode()[-2000:]
    await resume_in_this_process(bank, proxy, empty_redis, rsa_key)
    CRASH_POINTS["passed"] += 1


async def test_two_workers_on_one_key_through_redis_make_one_payout(
    bank: Bank, rsa_key: rsa.RSAPrivateKey, redis_server: RedisServer
) -> None:
    redis = Redis.from_url(redis_server.url)
    await redis.flushdb()
    outcomes: list[object] = []
    async with bank.client(rsa_key) as first, bank.client(rsa_key) as second:

        async def send(wise: WiseClient) -> None:
            try:
                outcomes.append(
                    await Payouts(wise, store=RedisPayoutStore(redis)).send(bank.profile_id, **bank.payout())
                )
            except PayoutInProgressError as exc:
                outcomes.append(exc)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(send, first)
            tasks.start_soon(send, second)
        again = await Payouts(second, store=RedisPayoutStore(redis)).send(bank.profile_id, **bank.payout())
    await redis.aclose()
    assert sorted(type(o).__name__ for o in outcomes) == ["PayoutInProgressError", "PayoutResult"]
    assert again.resumed == ("quote", "transfer", "funding")
    assert (len(bank.fake.transfers), bank.fundings()) == (1, 1)


async def test_an_unreachable_redis_is_a_payout_error_before_anything_is_sent(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    async with bank.client(rsa_key) as wise:
        with pytest.raises(PayoutError, match="payout store lease failed"):
            await Payouts(wise, store=RedisPayoutStore(redis)).send(bank.profile_id, **bank.payout())
    await redis.aclose()
    assert bank.fake.requests == []
