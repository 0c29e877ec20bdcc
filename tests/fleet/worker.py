"""A worker process of the fleet tests: runs jobs, each a WiseClient sharing Redis with its siblings.

Run as ``python worker.py <redis url> <jobs key>``; started once per test module, so each scenario
pays for calls, not for interpreter start-up. Per job (JSON, taken with ``BLPOP <jobs key>``) it builds
its client, makes ``warmup`` calls, reports ready (``RPUSH <ready> <pid>``), waits for the test's go
(``BLPOP <go>``), makes ``calls`` calls with ``concurrency`` in flight, and pushes one JSON result to
``<result key>``: its pid, ok/failed counts, error names, how often ``on_token_refresh`` ran here, and
(rate jobs) when each call got its slot. A job ``{"stop": true}`` ends the process. A job's
``http_backend`` is the connection pool its client uses (``WISE_HTTP_BACKEND``; default: aiohttp's).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
import traceback
from typing import Any

from redis.asyncio import Redis

from wise_async import WiseClient, WiseError
from wise_async.redis import RedisRateLimiter, RedisTokenStore


async def job(redis: Redis, options: dict[str, Any]) -> dict[str, Any]:
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
    if mode == "rate":
        limiter = kwargs["rate_limiter"]
        acquire = limiter.acquire

        async def timed_acquire(bucket: str) -> None:
            await acquire(bucket)
            sent.append(time.time())

        limiter.acquire = timed_acquire
    errors: list[str] = []
    ok = 0
    async with WiseClient(**kwargs) as wise:

        async def call() -> None:
            nonlocal ok
            try:
                if mode == "client":
                    response = await wise.http_client.get(
                        "/v1/auth/jose/response/public-keys",
                        params={"scope": "PAYLOAD_ENCRYPTION", "algorithm": "RSA_OAEP_256"},
                    )
                    if response.status_code != 200:
                        raise RuntimeError(f"HTTP {response.status_code}")
                else:
                    await wise.profiles.list()
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
