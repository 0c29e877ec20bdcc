"""The retrying transport: the one place that decides whether a failed attempt is sent again.

It wraps the real transport (or FakeWise's), below the auth flow, so a 401 refresh or an SCA replay
is one logical attempt and a 429 inside it is retried transparently. Policy lives in ``_retry``;
this module only loops and sleeps (``anyio.sleep``: asyncio and trio alike).

An attempt is the whole response, not just its headers: the body is read here, inside the loop
(bounded by ``max_response_bytes`` after decompression, see ``_body``), so a connection lost mid-body
is retried under the same rules as one lost before the headers. Whatever cannot be retried leaves as a
typed :class:`~wise_async.APIConnectionError` (or ``APITimeoutError``) saying what went wrong — never
as an httpx exception.
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

import httpx

from ._body import DEFAULT_MAX_RESPONSE_BYTES, read_bounded
from ._budget import sleep_with_anyio
from ._exceptions import APIConnectionError, APITimeoutError, RedirectError
from ._hooks import CURRENT_CALL
from ._idempotency import idempotency_key_of
from ._options import MAX_RETRIES_EXTENSION
from ._redaction import get_logger, redact_text, single_line
from ._retry import RETRYABLE_STATUS_CODES, RetryPolicy, compute_delay, parse_retry_after, should_retry

logger = get_logger("retry")
Sleep = Callable[[float], Awaitable[None]]

STREAM_EXTENSION = "wise_stream"
"""Request extension: leave the body unread for the caller to stream (no retry once headers arrived)."""

# Failures before the request left this machine: sending it again cannot do anything twice.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_WHY = (
    (httpx.ConnectTimeout, "timed out connecting"),
    (httpx.PoolTimeout, "timed out waiting for a free connection in the pool"),
    (httpx.ReadTimeout, "timed out waiting for the response"),
    (httpx.WriteTimeout, "timed out sending the request"),
    (httpx.ConnectError, "could not connect"),
    (httpx.ReadError, "connection lost while reading the response"),
    (httpx.WriteError, "connection lost while sending the request"),
    (httpx.RemoteProtocolError, "the server broke the HTTP exchange"),
    (httpx.LocalProtocolError, "the request could not be sent as HTTP"),
    (httpx.UnsupportedProtocol, "unsupported URL scheme"),
    (httpx.ProxyError, "the proxy refused the request"),
    (httpx.DecodingError, "the response body could not be decoded"),
)


def _root_cause(exc: BaseException) -> str:
    """The operating system's word for it (connection refused, DNS failure, TLS), when there is one."""
    seen: BaseException | None = exc
    for _ in range(8):
        seen = seen.__cause__ or seen.__context__ if seen is not None else None
        if seen is None:
            break
        if isinstance(seen, socket.gaierror):
            return f"DNS lookup failed ({seen.strerror or seen})"
        if isinstance(seen, ssl.SSLError):
            return f"TLS failed ({seen.reason or seen})"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen.strerror or str(seen)
    return ""


def describe_transport_error(exc: Exception) -> str:
    """``"could not connect: connection refused"`` — what failed, then why, as precisely as known."""
    why = next((text for kind, text in _WHY if isinstance(exc, kind)), type(exc).__name__)
    detail = _root_cause(exc) or str(exc).strip()
    return f"{why}: {detail}" if detail else why


def connection_error(exc: Exception, request: httpx.Request | None) -> APIConnectionError:
    """The typed error for an httpx transport/decoding failure (a timeout stays a timeout).

    httpx's and h11's own words may quote what was being sent (``Illegal header value b'Bearer …'``):
    they are redacted and kept on one line.
    """
    message = single_line(redact_text(describe_transport_error(exc)))
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(message, request=request)
    return APIConnectionError(message, request=request)


class RetryingTransport(httpx.AsyncBaseTransport):
    """Retry 429 (honouring Retry-After), connection failures and 502/503/504 where it is safe."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        *,
        policy: RetryPolicy | None = None,
        sleep: Sleep = sleep_with_anyio,
        random_fn: Callable[[], float] = random.random,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._transport = transport
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._random = random_fn
        self.max_response_bytes = max_response_bytes

    async def _read_unless_streamed(self, request: httpx.Request, response: httpx.Response) -> None:
        if not request.extensions.get(STREAM_EXTENSION):
            try:
                await read_bounded(response, self.max_response_bytes, request)
            except BaseException:
                await response.aclose()
                raise

    async def _redirect_error(self, request: httpx.Request, response: httpx.Response) -> RedirectError:
        """A 3xx ends the call here, below any client that would follow it: nothing goes to the other host."""
        try:
            if request.extensions.get(STREAM_EXTENSION):
                await read_bounded(response, self.max_response_bytes, request)
        finally:
            await response.aclose()
        response.request = request
        return RedirectError(response=response)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        retries = request.extensions.get(MAX_RETRIES_EXTENSION)
        if retries is not None and retries != policy.max_retries:
            policy = replace(policy, max_retries=retries)
        debug = logger.isEnabledFor(logging.DEBUG)
        call = CURRENT_CALL.get()  # the logical call's hooks, if its client has any
        has_key: bool | None = None  # read from the request only when a retry is considered
        attempt = 0
        while True:
            started = time.monotonic() if debug else 0.0
            if call is not None:
                call.attempt_started()
            try:
                response = await self._transport.handle_async_request(request)
                content = getattr(response, "_content", None)  # read by the transport: ``read_bounded``'s
                if content is None or len(content) > self.max_response_bytes or not response.is_closed:
                    await self._read_unless_streamed(request, response)  # check, without a frame of its own
                if call is not None:
                    await call.attempt_done(request, response, None)
                if response.status_code not in RETRYABLE_STATUS_CODES and not debug:
                    if 300 <= response.status_code < 400:
                        raise await self._redirect_error(request, response)
                    return response  # the common answer: nothing to decide (should_retry says no)
                if debug:
                    logger.debug(
                        "%s %s -> %d in %.1f ms (attempt %d, trace id %s)",
                        request.method,
                        request.url.path,
                        response.status_code,
                        (time.monotonic() - started) * 1000,
                        attempt + 1,
                        response.headers.get("x-trace-id"),
                    )
            except (httpx.TransportError, httpx.DecodingError) as exc:
                if call is not None:
                    await call.attempt_done(request, None, exc)
                if has_key is None:
                    has_key = idempotency_key_of(request) is not None
                if not should_retry(
                    policy,
                    attempt=attempt,
                    method=request.method,
                    has_idempotency_key=has_key or isinstance(exc, _NOT_SENT),
                    status=None,
                ):
                    raise connection_error(exc, request) from exc
                delay = compute_delay(policy, attempt, None, self._random)
                logger.info(
                    "%s on %s %s; retry %d in %.2fs",
                    describe_transport_error(exc),
                    request.method,
                    request.url.path,
                    attempt + 1,
                    delay,
                )
                if call is not None:
                    await call.retrying(type(exc).__name__, delay)
            else:
                if 300 <= response.status_code < 400:
                    raise await self._redirect_error(request, response)
                retry_after = parse_retry_after(response.headers) if response.status_code == 429 else None
                if has_key is None:
                    has_key = idempotency_key_of(request) is not None
                if not should_retry(
                    policy,
                    attempt=attempt,
                    method=request.method,
                    has_idempotency_key=has_key,
                    status=response.status_code,
                    retry_after=retry_after,
                ):
                    return response
                await response.aclose()
                delay = compute_delay(policy, attempt, retry_after, self._random)
                logger.info(
                    "HTTP %d on %s %s; retry %d in %.2fs",
                    response.status_code,
                    request.method,
                    request.url.path,
                    attempt + 1,
                    delay,
                )
                if call is not None:
                    await call.retrying(str(response.status_code), delay)
            attempt += 1
            await self._sleep(delay)

    async def aclose(self) -> None:
        await self._transport.aclose()
