"""Webhook dedupe across processes: Redis ``SET NX EX`` and a database unique key (SQLite here)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
from redis.asyncio import Redis

from wise_async.redis import RedisWebhookDeduplicator
from wise_async.webhooks import UniqueKeyWebhookDeduplicator, WebhookDeduplicator


async def test_redis_dedupe_marks_a_delivery_once_with_a_ttl(redis: Redis) -> None:
    dedupe = RedisWebhookDeduplicator(redis, ttl=timedelta(days=15), prefix="wh:")
    assert isinstance(dedupe, WebhookDeduplicator)
    assert await dedupe.seen("delivery-1") is False
    assert await dedupe.seen("delivery-1") is True
    assert await dedupe.seen("delivery-2") is False
    ttl = await redis.ttl("wh:delivery-1")
    assert 15 * 86400 - 5 < ttl <= 15 * 86400
    await dedupe.forget("delivery-1")  # handling failed: let Wise's redelivery through
    assert await dedupe.seen("delivery-1") is False


async def test_redis_dedupe_lets_exactly_one_of_many_concurrent_checks_through(redis: Redis) -> None:
    dedupe = RedisWebhookDeduplicator(redis)
    firsts: list[bool] = []

    async def check() -> None:
        firsts.append(not await dedupe.seen("delivery-1"))

    async with anyio.create_task_group() as tasks:
        for _ in range(20):
            tasks.start_soon(check)
    assert firsts.count(True) == 1


def test_redis_dedupe_rejects_a_ttl_under_a_second(redis_server: object) -> None:
    with pytest.raises(ValueError):
        RedisWebhookDeduplicator(Redis(), ttl=timedelta(milliseconds=10))


def sqlite_deduplicator(path: Path) -> UniqueKeyWebhookDeduplicator:
    """What an application writes for its database: insert-or-ignore on a unique key."""

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, timeout=10, isolation_level=None)
        connection.execute("CREATE TABLE IF NOT EXISTS webhook_deliveries (delivery_id TEXT PRIMARY KEY)")
        return connection

    def insert(delivery_id: str) -> bool:
        with connect() as connection:
            cursor = connection.execute(
                "INSERT INTO webhook_deliveries (delivery_id) VALUES (?) ON CONFLICT DO NOTHING",
                (delivery_id,),
            )
            return cursor.rowcount == 1

    def delete(delivery_id: str) -> None:
        with connect() as connection:
            connection.execute("DELETE FROM webhook_deliveries WHERE delivery_id = ?", (delivery_id,))

    async def claim(delivery_id: str) -> bool:
        return await anyio.to_thread.run_sync(insert, delivery_id)

    async def release(delivery_id: str) -> None:
        await anyio.to_thread.run_sync(delete, delivery_id)

    return UniqueKeyWebhookDeduplicator(claim, release)


async def test_database_unique_key_dedupe(tmp_path: Path) -> None:
    dedupe = sqlite_deduplicator(tmp_path / "app.db")
    other_process = sqlite_deduplicator(tmp_path / "app.db")  # its own connections to the same table
    assert isinstance(dedupe, WebhookDeduplicator)
    assert await dedupe.seen("delivery-1") is False
    assert await other_process.seen("delivery-1") is True
    await other_process.forget("delivery-1")
    assert await dedupe.seen("delivery-1") is False


async def test_unique_key_dedupe_without_release_cannot_forget() -> None:
    async def claim(delivery_id: str) -> bool:
        return True

    with pytest.raises(NotImplementedError):
        await UniqueKeyWebhookDeduplicator(claim).forget("delivery-1")
