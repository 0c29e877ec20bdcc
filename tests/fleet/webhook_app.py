"""A FastAPI webhook receiver as an application would write it, for the multi-process dedupe test.

Run by uvicorn in its own process: ``WISE_TEST_REDIS_URL`` and ``WISE_TEST_WEBHOOK_KEY`` (base64 SPKI)
configure it. Each delivery it handles (not a duplicate) is counted in Redis under ``processed:<id>``.
"""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import Depends, FastAPI
from redis.asyncio import Redis

from wise_async.redis import RedisWebhookDeduplicator
from wise_async.webhooks import WebhookEvent, webhook_dependency

redis = Redis.from_url(os.environ["WISE_TEST_REDIS_URL"])
dedupe = RedisWebhookDeduplicator(redis)
verified = webhook_dependency(environment="sandbox", public_keys=[os.environ["WISE_TEST_WEBHOOK_KEY"]])
app = FastAPI()


@app.get("/health")
async def health() -> dict[str, int]:
    return {"pid": os.getpid()}


@app.post("/wise/webhooks")
async def receive(event: Annotated[WebhookEvent, Depends(verified)]) -> dict[str, object]:
    if await dedupe.seen(event.delivery_id or ""):
        return {"pid": os.getpid(), "processed": False}
    await redis.incr(f"processed:{event.delivery_id}")
    return {"pid": os.getpid(), "processed": True}
