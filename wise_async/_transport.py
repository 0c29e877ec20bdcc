"""The retrying transport: the one place that decides whether a failed attempt is sent again.

It wraps the real transport (or FakeWise's), below the auth flow, so a 401 refresh or an SCA replay
is one logical attempt and a 429 inside it is retried transparently. Policy lives in ``_retry``;
this module only loops and sleeps (``anyio.sleep``: asyncio and trio alike).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import anyio
import httpx

from ._idempotency import idempotency_key_of
from ._redaction import get_logger
from ._retry import RetryPolicy, compute_delay, parse_retry_after, should_retry

logger = get_logger("retry")
Sleep = Callable[[float], Awaitable[None]]


class RetryingTransport(httpx.AsyncBaseTransport):
    """Retry 429 (honouring Retry-After), transport errors and 502/503/504 where it is safe."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        *,
        policy: RetryPolicy | None = None,
        sleep: Sleep = anyio.sleep,
        random_fn: Callable[[], float] = random.random,
    ) -> None:
        self._transport = transport
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._random = random_fn

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        has_key = idempotency_key_of(request) is not None
        attempt = 0
        while True:
            try:
                response = await self._transport.handle_async_request(request)
            except httpx.TransportError as exc:
                if not should_retry(
                    self.policy,
                    attempt=attempt,
                    method=request.method,
                    has_idempotency_key=has_key,
                    status=None,
                ):
                    raise
                delay = compute_delay(self.policy, attempt, None, self._random)
                logger.warning(
                    "%s on %s %s; retry %d in %.2fs",
                    type(exc).__name__,
                    request.method,
                    request.url.path,
                    attempt + 1,
                    delay,
                )
            else:
                retry_after = parse_retry_after(response.headers) if response.status_code == 429 else None
                if not should_retry(
                    self.policy,
                    attempt=attempt,
                    method=request.method,
                    has_idempotency_key=has_key,
                    status=response.status_code,
                    retry_after=retry_after,
                ):
                    return response
                await response.aread()
                await response.aclose()
                delay = compute_delay(self.policy, attempt, retry_after, self._random)
                logger.warning(
                    "HTTP %d on %s %s; retry %d in %.2fs",
                    response.status_code,
                    request.method,
                    request.url.path,
                    attempt + 1,
                    delay,
                )
            attempt += 1
            await self._sleep(delay)

    async def aclose(self) -> None:
        await self._transport.aclose()
