"""A worker process of the fleet tests: runs jobs, each a WiseClient sharing Redis with its siblings.

Run as ``python worker.py <redis url> <jobs key>``; started once per test module, so each scenario
pays for calls, not for interpreter start-up. Per job (JSON, taken with ``BLPOP <jobs key>``) it builds
its client, makes ``warmup`` calls, reports ready (``RPUSH <ready> <pid>``), waits for the test's go
(``BLPOP <go>``), makes ``calls`` calls with ``concurrency`` in flight, and pushes one JSON result to
``<result key>``: its pid, ok/failed counts, error names, how often ``on_token_refresh`` ran here, and
(rate jobs) when each call got its slot (``sent``: wall clock; ``left``: [call id, monotonic], the id
also sent as ``X-Call``) and when a 429's pause was shared (``penalized``: [start, end], monotonic).
A job ``{"stop": true}`` ends the process. A job's ``http_backend`` is the connection pool its client uses
(``WISE_HTTP_BACKEND``; default: aiohttp's).

An ``outage`` job instead runs for ``seconds`` against a second Redis (``components_url``) that the test
freezes and kills (each component with ``component_timeout``): ``concurrency`` loops each take turns at
a call (``timeout=budget``), a token store read and a webhook dedupe mark, and report each as
``outages``: [kind, start, duration, outcome, message] (monotonic; outcome "ok", or the exception's
type name prefixed with "untyped:" when not a WiseError).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from redis.asyncio import Redis

from wise_async import TokenKey, WiseClient, WiseError
from wise_async.redis import RedisRateLimiter, RedisTokenStore, RedisWebhookDeduplicator

CALL: ContextVar[str] = ContextVar("call", default="")


async def outage_job(redis: Redis, options: dict[str, Any]) -> dict[str, Any]:
    components = Redis.from_url(options["components_url"], socket_timeout=None)
    timeout = options["component_timeout"]
    store = RedisTokenStore(components, timeout=timeout)
    dedupe = RedisWebhookDeduplicator(components, timeout=timeout)
    wise = WiseClient(
        base_url=options["base_url"],
        client_id=options["client_id"],
        client_secret=options["client_secret"],
        token_store=store,
        user_key=options["user_key"],
        rate_limiter=RedisRateLimiter(
            components, rate=options["rate"], burst=options["burst"], timeout=timeout
        ),
    )
    key = TokenKey(options["client_id"], options["user_key"])
    marks = itertools.count()
    operations: dict[str, Callable[[], Awaitable[Any]]] = {
        "call": lambda: wise.profiles.list(timeout=options["budget"]),
        "store": lambda: store.load(key),
        "dedupe": lambda: dedupe.seen(f"{os.getpid()}-{next(marks)}"),
    }
    records: list[tuple[str, float, float, str, str]] = []

    async def loop(first: int) -> None:
        kinds = list(operations)
        for turn in itertools.count(first):
            started = time.monotonic()
            if started >= until:
                return
            kind = kinds[turn % len(kinds)]
            message = ""
            try:
                await operations[kind]()
                outcome = "ok"
            except WiseError as exc:
                outcome, message = type(exc).__name__, str(exc)[:300]
            except Exception as exc:
                outcome, message = f"untyped:{type(exc).__name__}", str(exc)[:300]
            records.append((kind, started, time.monotonic() - started, outcome, message))
            await asyncio.sleep(options["pause"])

    async with wise:
        await wise.profiles.list()
        await redis.rpush(options["ready_key"], os.getpid())
        await redis.blpop([options["go_key"]], timeout=60)
        until = time.monotonic() + options["seconds"]
        await asyncio.gather(*(loop(n) for n in range(options["concurrency"])))
    await components.aclose()
    return {"pid": os.getpid(), "outages": records}


async def job(redis: Redis, options: dict[str, Any]) -> dict[str, Any]:
    if options["mode"] == "outage":
        return await outage_job(redis, options)
    refreshes: list[str] = []

    def on_token_refresh(tokens: Any) -> None:
        refreshes.append(tokens.access_token)

    mode = options["mode"]
    os.environ.pop("WISE_HTTP_BACKEND", None)
    if options.get("http_backend"):
        os.environ["WISE_HTTP_BACKEND"] = options["http_backend"]
    kwargs: dict[str, Any] = {
        "base_url": options["base_url"],
        "client_id": options["client_id"],
        "client_secret": options["client_secret"],
    }
    if mode == "user":
        kwargs.update(
            token_store=RedisTokenStore(redis, lease=options.get("lease", 10.0)),
            user_key=options["user_key"],
            on_token_refresh=on_token_refresh,
        )
    elif mode == "client":
        kwargs.update(token_store=RedisTokenStore(redis))
    elif mode == "rate":
        kwargs.update(
            personal_token=options["personal_token"],
            rate_limiter=RedisRateLimiter(redis, rate=options["rate"], burst=options["burst"]),
        )
    sent: list[float] = []
    left: list[tuple[str, float]] = []
    penalized: list[tuple[float, float]] = []
    if mode == "rate":
        limiter = kwargs["rate_limiter"]
        acquire, penalize = limiter.acquire, limiter.penalize

        async def timed_acquire(bucket: str) -> None:
            await acquire(bucket)
            sent.append(time.time())
            left.append((CALL.get(), time.monotonic()))

        async def timed_penalize(bucket: str, seconds: float) -> None:
            started = time.monotonic()
            await penalize(bucket, seconds)
            penalized.append((started, time.monotonic()))

        limiter.acquire, limiter.penalize = timed_acquire, timed_penalize
    errors: list[str] = []
    ok = 0
    numbers = itertools.count()
    async with WiseClient(**kwargs) as wise:

        async def call() -> None:
            nonlocal ok
            CALL.set(f"{os.getpid()}-{next(numbers)}")  # in this call's task only
            try:
                if mode == "client":
                    response = await wise.http_client.get(
                        "/v1/auth/jose/response/public-keys",
                        params={"scope": "PAYLOAD_ENCRYPTION", "algorithm": "RSA_OAEP_256"},
                    )
                    if response.status_code != 200:
                        raise RuntimeError(f"HTTP {response.status_code}")
                else:
                    await wise.profiles.list(extra_headers={"X-Call": CALL.get()})
                ok += 1
            except (WiseError, RuntimeError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

        for _ in range(options.get("warmup", 0)):
            await call()
        await redis.rpush(options["ready_key"], os.getpid())
        await redis.blpop([options["go_key"]], timeout=60)
        limit = asyncio.Semaphore(options.get("concurrency", options["calls"]))

        async def limited() -> None:
            async with limit:
                await call()

        await asyncio.gather(*(limited() for _ in range(options["calls"])))
    return {
        "pid": os.getpid(),
        "ok": ok,
        "failed": len(errors),
        "errors": errors[:5],
        "refreshes": len(refreshes),
        "sent": sent,
        "left": left,
        "penalized": penalized,
    }


async def main(redis_url: str, jobs_key: str) -> None:
    # The figures should measure the SDK, not other work on a shared machine: where allowed (root, as
    # in CI) the fleet runs ahead of it (the measuring server thread runs further ahead still).
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, -5)
    redis = Redis.from_url(redis_url, socket_timeout=None)  # BLPOP waits as long as the tests need
    while True:
        taken = await redis.blpop([jobs_key])
        assert taken is not None
        options = json.loads(taken[1])
        if options.get("stop"):
            break
        try:
            result = await job(redis, options)
        except Exception:
            result = {"pid": os.getpid(), "crash": traceback.format_exc()}
        await redis.rpush(options["result_key"], json.dumps(result))
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
