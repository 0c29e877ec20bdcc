"""Redis backends for running wise-async in many processes: tokens, rate limits, webhook dedupe.

Needs the optional extra: ``pip install 'wise-async[redis]'`` (redis-py's asyncio client). Pass one
``redis.asyncio.Redis`` to all of them; each keeps its keys under its own prefix.

* :class:`RedisTokenStore` — user and client-credentials tokens shared by the fleet (optionally
  encrypted at rest), with a refresh lease so one process refreshes while the others wait and re-read;
* :class:`RedisRateLimiter` — one token bucket per client id for the whole fleet (atomic Lua, one
  round trip per request, fair first-come first-served slots, 429s pause everyone);
* :class:`RedisWebhookDeduplicator` — a delivery id is handled once across processes (``SET NX EX``);
* :class:`RedisPayoutStore` — crash-safe payouts (``wise_async.payouts``) resumable by any process.

Each takes its own ``timeout`` (:data:`DEFAULT_TIMEOUT`, 5 s) for every Redis round trip, whatever the
``Redis`` client's ``socket_timeout`` (redis-py's default waits forever): a Redis that is down, or up
but frozen, raises :class:`~wise_async.CoordinationError` (``TokenStoreError`` for the token store,
``PayoutError`` for the payout store) within it, and inside a call the call's budget bounds it too.
After Redis returns the next calls succeed.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import TypeVar

import anyio

try:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("wise_async.redis needs redis-py: pip install 'wise-async[redis]'") from exc

from ._exceptions import ConfigurationError, CoordinationError
from ._rate_limit import bucket_timing, wait_for_slot
from ._redaction import get_logger, redact_text, single_line
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

__all__ = [
    "DEFAULT_TIMEOUT",
    "RedisPayoutStore",
    "RedisRateLimiter",
    "RedisTokenStore",
    "RedisWebhookDeduplicator",
]

logger = get_logger("redis")
T = TypeVar("T")

DEFAULT_TIMEOUT = 5.0
"""Seconds each Redis round trip of a fleet component may take before it raises ``CoordinationError``.
Generous: 512 callers opening their connections at once on a busy 2-core host waited up to 2.1 s."""


UNWIND_RELEASE_TIMEOUT = 0.5
"""Seconds a refresh lease's release may take while its call unwinds (after that it lapses by itself)."""


def _check_timeout(timeout: float) -> float:
    if not timeout > 0:
        raise ConfigurationError("timeout must be a positive number of seconds")
    return float(timeout)


async def _bounded(
    call: Callable[[], Awaitable[T]],
    timeout: float,
    what: str,
    error: type[CoordinationError] = CoordinationError,
) -> T:
    """``call()`` (one Redis round trip) within ``timeout``; Redis's failures and silence as ``error``.

    A connection error is retried once at once, within the same timeout: a pooled connection that a
    restarted Redis closed fails on first use (``Redis.from_url`` clients do not retry by themselves).
    Every command sent here is safe to repeat.
    """
    try:
        with anyio.fail_after(timeout):
            try:
                return await call()
            except RedisConnectionError:
                return await call()
    except TimeoutError:  # anyio's: redis-py's own TimeoutError is a RedisError
        raise error(f"{what}: Redis did not answer within {timeout:g}s") from None
    except RedisError as exc:
        # redis-py's words may quote what it was sent or where it connects: redacted, one line, bounded
        raise error(f"{what}: {type(exc).__name__}: {single_line(redact_text(str(exc)))[:300]}") from exc


# Compare-and-delete / compare-and-extend: only the owner of a lease may release or renew it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# SET NX, or already ours (this very command, repeated after its reply was lost): 1 if held by ARGV[1].
_TAKE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
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
    ``timeout`` bounds each Redis round trip (``TokenStoreError`` past it).
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "wise:tokens:",
        cipher: TokenCipher | None = None,
        lease: float = 10.0,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.timeout = _check_timeout(timeout)
        self._leases = _Leases(redis, lease, "refresh", timeout=self.timeout)
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

    def _bounded(self, call: Callable[[], Awaitable[T]], key: TokenKey, action: str) -> Awaitable[T]:
        return _bounded(call, self.timeout, f"token store {action} failed for {key}", TokenStoreError)

    async def load(self, key: TokenKey) -> OAuthTokens | None:
        raw = await self._bounded(lambda: self._redis.get(self.name(key)), key, "read")
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
        value, px = self._pack(tokens), self._ttl_ms(key, tokens)
        await self._bounded(lambda: self._redis.set(self.name(key), value, px=px), key, "write")

    async def add(self, key: TokenKey, tokens: OAuthTokens) -> bool:
        value, px = self._pack(tokens), self._ttl_ms(key, tokens)
        return bool(
            await self._bounded(lambda: self._redis.set(self.name(key), value, px=px, nx=True), key, "write")
        )

    async def try_lease(self, key: TokenKey) -> AbstractAsyncContextManager[None] | None:
        try:
            return await self._leases.try_take(self.lease_name(key))
        except CoordinationError as exc:
            raise TokenStoreError(f"token store lease failed for {key}: {exc}") from exc


class _Leases:
    """Exclusive leases on Redis keys: taken by a script (``SET NX PX`` with the holder's name, or already
    the caller's: a repeat after a lost reply), renewed every third of the lease while held, released by
    compare-and-delete (only the holder's own lease); every round trip bounded by ``timeout``."""

    def __init__(self, redis: Redis, lease: float, what: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        if lease <= 0:
            raise ConfigurationError("lease must be positive (seconds)")
        self._redis = redis
        self.lease = lease
        self.timeout = timeout
        self._what = what
        self._take = redis.register_script(_TAKE)
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)

    async def try_take(self, name: str) -> AbstractAsyncContextManager[None] | None:
        owner = _owner()
        args: list[str | int] = [owner, math.ceil(self.lease * 1000)]
        if not await _bounded(
            lambda: self._take(keys=[name], args=args), self.timeout, f"{self._what} lease"
        ):
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
        except BaseException:
            # Unwinding (an error, or the call's budget ran out): release even if cancelled, but
            # briefly, so that a frozen Redis does not hold the call past its budget.
            with anyio.CancelScope(shield=True):
                await self._release_lease(name, owner, min(self.timeout, UNWIND_RELEASE_TIMEOUT))
            raise
        await self._release_lease(name, owner, self.timeout)

    async def _release_lease(self, name: str, owner: str, timeout: float) -> None:
        try:
            await _bounded(lambda: self._release(keys=[name], args=[owner]), timeout, "release")
        except CoordinationError as exc:  # it lapses by itself within the lease
            logger.warning("could not release %s lease %s: %s", self._what, name, exc)

    async def _keep_alive(self, name: str, owner: str) -> None:
        """Renew while held; a Redis hiccup must not abort the work (it may have changed state at Wise)."""
        lease_ms = math.ceil(self.lease * 1000)
        while True:
            await anyio.sleep(self.lease / 3)
            try:
                renewed = await _bounded(
                    lambda: self._renew(keys=[name], args=[owner, lease_ms]), self.timeout, "renew"
                )
            except CoordinationError as exc:
                logger.warning("could not renew %s lease %s: %s", self._what, name, exc)
                continue
            if not renewed:
                logger.warning("%s lease %s was lost (held longer than its lease?)", self._what, name)
                return


# GCRA in microseconds of Redis's own clock, so every process agrees on "now". Values are kept as
# integers formatted with %.0f: Lua's default number formatting would round them to 14 digits.
# KEYS[1] holds the bucket's tat; KEYS[2] (set by a 429) the end of the pause.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""
_TAKE_SLOT = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local start = tat - tolerance
if start < now then start = now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return start - now
"""
_RESERVE = _NOW + _TAKE_SLOT
# A waiter woke up at its slot: -1 (go) unless a 429 paused the bucket since; then a slot after the pause.
_RECHECK = (
    _NOW
    + """
if tonumber(redis.call('GET', KEYS[2]) or 0) <= now then return -1 end
"""
    + _TAKE_SLOT
)
_PENALIZE = (
    _NOW
    + """
local paused_until = now + tonumber(ARGV[1])
local resume = paused_until + tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < resume then tat = resume end
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
if tonumber(redis.call('GET', KEYS[2]) or 0) < paused_until then
    local ms = math.ceil((paused_until - now) / 1000) + 1
    redis.call('SET', KEYS[2], string.format('%.0f', paused_until), 'PX', ms)
end
return tat - now
"""
)


class RedisRateLimiter:
    """A fleet-wide token bucket per client id: at most ``rate * w + burst`` requests leave the fleet in
    any ``w`` seconds (see ``wise_async.InProcessRateLimiter`` for how the burst is spent).

    Each request is one ``EVALSHA`` that reserves the next slot on Redis's clock; the caller then sleeps
    until its slot, and one more checks that no 429 paused the bucket meanwhile. Slots go out in arrival
    order, so no process or task starves.

    If Redis fails or does not answer within ``timeout``, :meth:`acquire` raises ``CoordinationError``
    and nothing is sent; ``fail_open=True`` sends without a slot instead (logged): Wise's own 429s are
    still honoured.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        rate: float,
        burst: int = 1,
        prefix: str = "wise:rate:",
        timeout: float = DEFAULT_TIMEOUT,
        fail_open: bool = False,
    ) -> None:
        interval, tolerance, self._lateness = bucket_timing(rate, burst)
        self.rate = rate
        self.burst = burst
        self.timeout = _check_timeout(timeout)
        self.fail_open = fail_open
        self._interval_us = interval * 1_000_000
        self._tolerance_us = tolerance * 1_000_000
        self._prefix = prefix
        self._reserve = redis.register_script(_RESERVE)
        self._recheck = redis.register_script(_RECHECK)
        self._penalize = redis.register_script(_PENALIZE)

    def __repr__(self) -> str:
        return f"RedisRateLimiter(rate={self.rate}, burst={self.burst}, prefix={self._prefix!r})"

    def _keys(self, bucket: str) -> list[str]:
        return [self._prefix + bucket, f"{self._prefix}{bucket}:paused"]

    def _args(self) -> list[str]:
        return [f"{self._interval_us:.3f}", f"{self._tolerance_us:.3f}"]

    async def _run(self, script: AsyncScript, bucket: str, args: list[str]) -> int:
        keys = self._keys(bucket)
        return int(await _bounded(lambda: script(keys=keys, args=args), self.timeout, "rate limiter"))

    async def reserve(self, bucket: str) -> float:
        """Take the next slot of ``bucket``; returns how many seconds to wait for it."""
        return await self._run(self._reserve, bucket, self._args()) / 1_000_000

    async def recheck(self, bucket: str) -> float | None:
        """None if ``bucket`` is not paused; else the wait for a new slot, taken after the pause."""
        waited = await self._run(self._recheck, bucket, self._args())
        return None if waited < 0 else waited / 1_000_000

    async def acquire(self, bucket: str) -> None:
        """Wait for a slot: ``CoordinationError`` if Redis fails or is silent for ``timeout`` (or, with
        ``fail_open``, the request goes ahead without a slot)."""
        try:
            await wait_for_slot(
                lambda: self.reserve(bucket),
                recheck=lambda: self.recheck(bucket),
                lateness=self._lateness,
                clock=time.monotonic,
                sleep=anyio.sleep,
            )
        except CoordinationError as exc:
            if not self.fail_open:
                raise
            logger.warning("%s; sending without a slot (fail_open)", exc)

    async def penalize(self, bucket: str, seconds: float) -> None:
        """Hand out no slot of ``bucket`` for ``seconds``, in every process (``CoordinationError`` if
        Redis cannot be told)."""
        await self._run(
            self._penalize, bucket, [f"{max(seconds, 0.0) * 1_000_000:.0f}", f"{self._tolerance_us:.3f}"]
        )


# A command that reaches Redis after its sender gave up (Redis frozen, then resumed) must not act: a
# late mark would make Wise's redelivery look like a duplicate, and the delivery would be lost.
# ARGV[1]: the sender's deadline (µs of the epoch); -1 when Redis's clock is past it. A mark holds the
# nonce of the `seen` that made it: the same command repeated after its reply was lost is still first.
_MARK = (
    _NOW
    + """
if now > tonumber(ARGV[1]) then return -1 end
if redis.call('SET', KEYS[1], ARGV[3], 'NX', 'EX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[3] then return 1 end
return 0
"""
)
_UNMARK = (
    _NOW
    + """
if now > tonumber(ARGV[1]) then return -1 end
return redis.call('DEL', KEYS[1])
"""
)


class RedisWebhookDeduplicator:
    """A ``WebhookDeduplicator`` for many processes: the first ``SET NX`` of a delivery id wins.

    ``ttl`` must outlast Wise's redelivery window (retries for up to two weeks): 15 days by default.
    If Redis fails or does not answer within ``timeout``, :meth:`seen` and :meth:`forget` raise
    ``CoordinationError`` (answer Wise with an error: it redelivers), and a mark that reaches Redis
    after that is dropped, so the redelivery is not taken for a duplicate. (That check compares the
    deadline with Redis's clock: this host's and Redis's clocks must agree to well within ``timeout``.)
    """

    def __init__(
        self,
        redis: Redis,
        *,
        ttl: timedelta = timedelta(days=15),
        prefix: str = "wise:webhook:",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if ttl.total_seconds() < 1:
            raise ConfigurationError("ttl must be at least one second")
        self.timeout = _check_timeout(timeout)
        self._ttl = ttl
        self._prefix = prefix
        self._mark = redis.register_script(_MARK)
        self._unmark = redis.register_script(_UNMARK)

    def __repr__(self) -> str:
        return f"RedisWebhookDeduplicator(ttl={self._ttl}, prefix={self._prefix!r})"

    async def _fenced(self, script: AsyncScript, delivery_id: str, action: str, *args: int | str) -> int:
        deadline_us = math.floor((time.time() + self.timeout) * 1_000_000)
        keys, argv = [self._prefix + delivery_id], [deadline_us, *args]
        what = f"webhook deduplicator {action} failed for delivery {delivery_id!r}"
        answer = int(await _bounded(lambda: script(keys=keys, args=argv), self.timeout, what))
        if answer < 0:
            raise CoordinationError(
                f"{what}: Redis's clock is ahead of this host's by over {self.timeout:g}s"
            )
        return answer

    async def seen(self, delivery_id: str) -> bool:
        ttl = math.ceil(self._ttl.total_seconds())
        return not await self._fenced(self._mark, delivery_id, "mark", ttl, uuid.uuid4().hex)

    async def forget(self, delivery_id: str) -> None:
        """Un-mark ``delivery_id`` (handling failed; let Wise's redelivery through)."""
        await self._fenced(self._unmark, delivery_id, "unmark")


class RedisPayoutStore:
    """Payout records (``wise_async.payouts``) in Redis, for payouts that must survive the process and be
    resumed by any worker: one key per payout, kept for ``ttl`` (longer than you would ever resume).

    The per-payout lease keeps two workers from driving one key at once; a worker that dies holding it
    delays the others by at most ``lease`` seconds (a live holder renews it). ``timeout`` bounds each
    Redis round trip (``PayoutError`` past it).
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "wise:payouts:",
        lease: float = 30.0,
        ttl: timedelta = timedelta(days=90),
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.timeout = _check_timeout(timeout)
        self._leases = _Leases(redis, lease, "payout", timeout=self.timeout)
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl

    def __repr__(self) -> str:
        return f"RedisPayoutStore(prefix={self._prefix!r})"

    async def load(self, key: str) -> PayoutRecord | None:
        with _payout_errors(key, "read"):
            raw = await _bounded(lambda: self._redis.get(self._prefix + key), self.timeout, "read")
        return None if raw is None else PayoutRecord.from_json(raw)

    async def save(self, record: PayoutRecord) -> None:
        with _payout_errors(record.key, "write"):
            await _bounded(
                lambda: self._redis.set(self._prefix + record.store_key, record.to_json(), ex=self._ttl),
                self.timeout,
                "write",
            )

    async def try_lease(self, key: str) -> AbstractAsyncContextManager[None] | None:
        with _payout_errors(key, "lease"):
            return await self._leases.try_take(f"{self._prefix}lease:{key}")


@contextlib.contextmanager
def _payout_errors(key: str, action: str) -> Iterator[None]:
    try:
        yield
    except CoordinationError as exc:  # Redis down, frozen or failing (bounded by the store's timeout)
        raise PayoutError(f"payout store {action} failed: {exc}", key=key) from exc
