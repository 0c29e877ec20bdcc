"""Redis backends for running wise-async in many processes: tokens, rate limits, webhook dedupe.

Needs the optional extra: ``pip install 'wise-async[redis]'`` (redis-py's asyncio client). Pass one
``redis.asyncio.Redis`` to all of them; each keeps its keys under its own prefix.

* :class:`RedisTokenStore` — user and client-credentials tokens shared by the fleet (optionally
  encrypted at rest), with a refresh lease so one process refreshes while the others wait and re-read;
* :class:`RedisRateLimiter` — one token bucket per client id for the whole fleet (atomic Lua, one
  round trip per request, fair first-come first-served slots, 429s pause everyone);
* :class:`RedisWebhookDeduplicator` — a delivery id is handled once across processes (``SET NX EX``);
* :class:`RedisPayoutStore` — crash-safe payouts (``wise_async.payouts``) resumable by any process.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import anyio

try:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("wise_async.redis needs redis-py: pip install 'wise-async[redis]'") from exc

from ._rate_limit import bucket_timing, wait_for_slot
from ._redaction import get_logger
from ._token_store import (
    TokenCipher,
    TokenKey,
    TokenStoreError,
    decode_tokens,
    encode_tokens,
    retention_deadline,
)
from ._tokens import OAuthTokens
from .payouts import PayoutError, PayoutRecord

__all__ = ["RedisPayoutStore", "RedisRateLimiter", "RedisTokenStore", "RedisWebhookDeduplicator"]

logger = get_logger("redis")

# Compare-and-delete / compare-and-extend: only the owner of a lease may release or renew it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"


class RedisTokenStore:
    """Token pairs in Redis, one key per (client id, user), expiring with the refresh token.

    ``cipher`` encrypts values at rest (``cryptography.fernet.Fernet(key)`` fits). ``lease`` bounds how
    long a process that died mid-refresh delays the others; a live holder renews it every third of it.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "wise:tokens:",
        cipher: TokenCipher | None = None,
        lease: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._leases = _Leases(redis, lease, "refresh")
        self._redis = redis
        self._prefix = prefix
        self._cipher = cipher
        self.lease = lease
        self._clock = clock

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self._prefix!r}, encrypted={self._cipher is not None})"

    def name(self, key: TokenKey) -> str:
        """The Redis key holding ``key``'s pair."""
        return f"{self._prefix}{key}"

    def lease_name(self, key: TokenKey) -> str:
        """The Redis key of ``key``'s refresh lease (its value names the holder: host:pid:nonce)."""
        return f"{self._prefix}lease:{key}"

    def _ttl_ms(self, key: TokenKey, tokens: OAuthTokens) -> int | None:
        deadline = retention_deadline(key, tokens)
        if deadline is None:
            return None
        return max(1, math.ceil((deadline - self._clock()) * 1000))

    def _pack(self, tokens: OAuthTokens) -> bytes:
        data = encode_tokens(tokens)
        return self._cipher.encrypt(data) if self._cipher is not None else data

    async def load(self, key: TokenKey) -> OAuthTokens | None:
        with _store_errors(key, "read"):
            raw = await self._redis.get(self.name(key))
        if raw is None:
            return None
        data = raw.encode() if isinstance(raw, str) else bytes(raw)
        try:
            return decode_tokens(self._cipher.decrypt(data) if self._cipher is not None else data)
        except Exception as exc:  # the cipher's own error type, or JSON that is not a token pair
            raise TokenStoreError(
                f"tokens stored for {key} cannot be read ({type(exc).__name__}): another cipher key?"
            ) from None

    async def save(self, key: TokenKey, tokens: OAuthTokens) -> None:
        with _store_errors(key, "write"):
            await self._redis.set(self.name(key), self._pack(tokens), px=self._ttl_ms(key, tokens))

    async def add(self, key: TokenKey, tokens: OAuthTokens) -> bool:
        with _store_errors(key, "write"):
            stored = await self._redis.set(
                self.name(key), self._pack(tokens), px=self._ttl_ms(key, tokens), nx=True
            )
        return bool(stored)

    async def try_lease(self, key: TokenKey) -> AbstractAsyncContextManager[None] | None:
        with _store_errors(key, "lease"):
            return await self._leases.try_take(self.lease_name(key))


class _Leases:
    """Exclusive leases on Redis keys: ``SET NX PX`` with the holder's name, renewed every third of the
    lease while held, released by compare-and-delete (only the holder's own lease)."""

    def __init__(self, redis: Redis, lease: float, what: str) -> None:
        if lease <= 0:
            raise ValueError("lease must be positive (seconds)")
        self._redis = redis
        self.lease = lease
        self._what = what
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)

    async def try_take(self, name: str) -> AbstractAsyncContextManager[None] | None:
        owner = _owner()
        if not await self._redis.set(name, owner, nx=True, px=math.ceil(self.lease * 1000)):
            return None
        return self._held(name, owner)

    @contextlib.asynccontextmanager
    async def _held(self, name: str, owner: str) -> AsyncIterator[None]:
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._keep_alive, name, owner)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await self._release(keys=[name], args=[owner])
                except RedisError as exc:  # it lapses by itself within the lease
                    logger.warning("could not release %s lease %s: %s", self._what, name, type(exc).__name__)

    async def _keep_alive(self, name: str, owner: str) -> None:
        """Renew while held; a Redis hiccup must not abort the work (it may have changed state at Wise)."""
        lease_ms = math.ceil(self.lease * 1000)
        while True:
            await anyio.sleep(self.lease / 3)
            try:
                renewed = await self._renew(keys=[name], args=[owner, lease_ms])
            except RedisError as exc:
                logger.warning("could not renew %s lease %s: %s", self._what, name, type(exc).__name__)
                continue
            if not renewed:
                logger.warning("%s lease %s was lost (held longer than its lease?)", self._what, name)
                return


@contextlib.contextmanager
def _store_errors(key: TokenKey, action: str) -> Iterator[None]:
    try:
        yield
    except RedisError as exc:
        raise TokenStoreError(f"token store {action} failed for {key}: {type(exc).__name__}: {exc}") from exc


# GCRA in microseconds of Redis's own clock, so every process agrees on "now". Values are kept as
# integers formatted with %.0f: Lua's default number formatting would round them to 14 digits.
_RESERVE = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local start = tat - tolerance
if start < now then start = now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return start - now
"""
_PENALIZE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local resume = now + tonumber(ARGV[1]) + tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < resume then tat = resume end
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
return tat - now
"""


class RedisRateLimiter:
    """A fleet-wide token bucket per client id: at most ``rate * w + burst`` requests leave the fleet in
    any ``w`` seconds (see ``wise_async.InProcessRateLimiter`` for how the burst is spent).

    Each request is one ``EVALSHA`` that reserves the next slot on Redis's clock; the caller then sleeps
    until its slot. Slots go out in arrival order, so no process or task starves.
    """

    def __init__(self, redis: Redis, *, rate: float, burst: int = 1, prefix: str = "wise:rate:") -> None:
        interval, tolerance, self._lateness = bucket_timing(rate, burst)
        self.rate = rate
        self.burst = burst
        self._interval_us = interval * 1_000_000
        self._tolerance_us = tolerance * 1_000_000
        self._prefix = prefix
        self._reserve = redis.register_script(_RESERVE)
        self._penalize = redis.register_script(_PENALIZE)

    def __repr__(self) -> str:
        return f"RedisRateLimiter(rate={self.rate}, burst={self.burst}, prefix={self._prefix!r})"

    async def reserve(self, bucket: str) -> float:
        """Take the next slot of ``bucket``; returns how many seconds to wait for it."""
        waited = await self._reserve(
            keys=[self._prefix + bucket], args=[f"{self._interval_us:.3f}", f"{self._tolerance_us:.3f}"]
        )
        return int(waited) / 1_000_000

    async def acquire(self, bucket: str) -> None:
        """Wait for a slot. If Redis cannot be reached the request goes ahead (logged): the budget is
        advisory, and a 429 from Wise is still retried after its ``Retry-After``."""
        try:
            await wait_for_slot(
                lambda: self.reserve(bucket), lateness=self._lateness, clock=time.monotonic, sleep=anyio.sleep
            )
        except RedisError as exc:
            logger.warning("rate limiter unavailable (%s); sending without a slot", type(exc).__name__)

    async def penalize(self, bucket: str, seconds: float) -> None:
        try:
            await self._penalize(
                keys=[self._prefix + bucket],
                args=[f"{max(seconds, 0.0) * 1_000_000:.0f}", f"{self._tolerance_us:.3f}"],
            )
        except RedisError as exc:
            logger.warning("rate limiter unavailable (%s); 429 not shared", type(exc).__name__)


class RedisWebhookDeduplicator:
    """A ``WebhookDeduplicator`` for many processes: the first ``SET NX`` of a delivery id wins.

    ``ttl`` must outlast Wise's redelivery window (retries for up to two weeks): 15 days by default.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        ttl: timedelta = timedelta(days=15),
        prefix: str = "wise:webhook:",
    ) -> None:
        if ttl.total_seconds() < 1:
            raise ValueError("ttl must be at least one second")
        self._redis = redis
        self._ttl = ttl
        self._prefix = prefix

    def __repr__(self) -> str:
        return f"RedisWebhookDeduplicator(ttl={self._ttl}, prefix={self._prefix!r})"

    async def seen(self, delivery_id: str) -> bool:
        first = await self._redis.set(self._prefix + delivery_id, b"1", nx=True, ex=self._ttl)
        return not first

    async def forget(self, delivery_id: str) -> None:
        """Un-mark ``delivery_id`` (handling failed; let Wise's redelivery through)."""
        await self._redis.delete(self._prefix + delivery_id)


class RedisPayoutStore:
    """Payout records (``wise_async.payouts``) in Redis, for payouts that must survive the process and be
    resumed by any worker: one key per payout, kept for ``ttl`` (longer than you would ever resume).

    The per-payout lease keeps two workers from driving one key at once; a worker that dies holding it
    delays the others by at most ``lease`` seconds (a live holder renews it).
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "wise:payouts:",
        lease: float = 30.0,
        ttl: timedelta = timedelta(days=90),
    ) -> None:
        self._leases = _Leases(redis, lease, "payout")
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl

    def __repr__(self) -> str:
        return f"RedisPayoutStore(prefix={self._prefix!r})"

    async def load(self, key: str) -> PayoutRecord | None:
        with _payout_errors(key, "read"):
            raw = await self._redis.get(self._prefix + key)
        return None if raw is None else PayoutRecord.from_json(raw)

    async def save(self, record: PayoutRecord) -> None:
        with _payout_errors(record.key, "write"):
            await self._redis.set(self._prefix + record.store_key, record.to_json(), ex=self._ttl)

    async def try_lease(self, key: str) -> AbstractAsyncContextManager[None] | None:
        with _payout_errors(key, "lease"):
            return await self._leases.try_take(f"{self._prefix}lease:{key}")


@contextlib.contextmanager
def _payout_errors(key: str, action: str) -> Iterator[None]:
    try:
        yield
    except RedisError as exc:
        raise PayoutError(f"payout store {action} failed: {type(exc).__name__}: {exc}", key=key) from exc
