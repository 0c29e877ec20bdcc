"""One worker process of a fleet test: a WiseClient sharing Redis with its siblings.

Run as ``python worker.py '<json options>'``. It builds its client, makes ``warmup`` calls, reports
ready (``RPUSH <ready> <pid>``), waits for the test's go (``BLPOP <go>``), makes ``calls`` calls with
``concurrency`` in flight, and prints one JSON line: its pid, ok/failed counts, error names and how
often ``on_token_refresh`` ran here.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from redis.asyncio import Redis

from wise_async import WiseClient, WiseError
from wise_async.redis import RedisRateLimiter, RedisTokenStore


async def main(options: dict[str, Any]) -> dict[str, Any]:
    redis = Redis.from_url(options["redis_url"], socket_timeout=120)  # BLPOP waits for the whole fleet
    refreshes: list[str] = []

    def on_token_refresh(tokens: Any) -> None:
        refreshes.append(tokens.access_token)

    mode = options["mode"]
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
    await redis.aclose()
    return {
        "pid": os.getpid(),
        "ok": ok,
        "failed": len(errors),
        "errors": errors[:5],
        "refreshes": len(refreshes),
        "sent": sent,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))), flush=True)
