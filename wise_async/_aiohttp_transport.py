"""The innermost transport on asyncio: httpx requests sent through an ``aiohttp`` connection pool.

httpcore's pool rescans every connection for every queued request (quadratic in the queue: 60-90% of
the client's CPU at 200 calls in flight, encode/httpx#3215); aiohttp's connector hands a released
connection to the next waiter in O(1). Everything above this transport (auth, SCA, retries, the size
cap, gzip/deflate, budgets) is unchanged: it sees httpx requests, httpx responses and httpx errors.

What this transport guarantees to the layers above:

* every aiohttp failure becomes the httpx error httpcore would raise for it, so the retry layer's
  "was the request sent?" rule holds: only a failure to connect is ``ConnectError``/``ConnectTimeout``
  (safe to resend), a disconnect or reset after sending is a ``ReadError``/``RemoteProtocolError``;
* aiohttp never resends on its own (it retries idempotent methods once on a reused connection that
  drops; ``WiseClient``'s policy is the only one that decides), never follows redirects, never inflates
  bodies (``_body.read_bounded`` does, within the cap), and keeps no cookies from responses;
* messages are ours, never aiohttp's (which carry URLs); a server's text is redacted and cut short.

On trio (no asyncio loop running) it sends through httpx's own transport instead: aiohttp is asyncio-only.
A session belongs to one event loop; a client used from a new loop gets a new session there. aiohttp is
imported with the first session (as httpcore loads anyio at its first request), not with the client.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, NoReturn

import httpx

from ._redaction import redact_text
from ._transport import STREAM_EXTENSION

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

_MESSAGE_CHARS = 200
_TARGETS_KEPT = 512
_HTTP11 = {"http_version": b"HTTP/1.1"}
PREREAD_BYTES = 256 * 1024
"""A body the server announces (``Content-Length``, not encoded) up to this size is read here in one
call when the caller does not stream it; ``_body.read_bounded`` still applies the size cap to it."""


def _server_text(message: object) -> str:
    """A server's words as aiohttp quotes them (a malformed status line...): redacted, cut short."""
    return redact_text(str(message))[:_MESSAGE_CHARS]


def _connect_error(exc: aiohttp.ClientConnectorError) -> httpx.TransportError:
    # Chained to the operating system's error, so the message says "connection refused", "TLS failed ...".
    cause = getattr(exc, "certificate_error", None) or exc.os_error
    error = httpx.ConnectError("could not connect")
    error.__cause__ = cause
    return error


def transport_error(exc: BaseException) -> httpx.TransportError | None:
    """The httpx error httpcore raises for the same failure, or None for a failure that is not aiohttp's."""
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is None:  # no session was made: nothing of aiohttp's can have failed
        return None
    error: httpx.TransportError
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        error = httpx.ConnectTimeout("timed out connecting")
    elif isinstance(exc, aiohttp.ServerTimeoutError):  # sock_read: no byte within the read timeout
        error = httpx.ReadTimeout("no data within the read timeout")
    elif isinstance(exc, aiohttp.ClientConnectorError):
        return _connect_error(exc)
    elif isinstance(exc, aiohttp.ServerDisconnectedError):
        error = httpx.RemoteProtocolError("the server closed the connection without a complete response")
    elif isinstance(exc, aiohttp.ClientPayloadError):
        error = httpx.RemoteProtocolError("the response body ended early or was malformed")
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, OSError):  # a reset mid-body: say so
            error = httpx.ReadError("connection lost mid-body")
            error.__cause__ = cause
            return error
    elif isinstance(exc, aiohttp.ClientOSError):
        error = httpx.ReadError(exc.strerror or "connection lost")
    elif isinstance(exc, aiohttp.ClientResponseError):  # an unparsable status line or header
        error = httpx.RemoteProtocolError(f"malformed response: {_server_text(exc.message)}")
    elif isinstance(exc, aiohttp.InvalidURL):
        error = httpx.UnsupportedProtocol("the URL cannot be requested")
    elif isinstance(exc, aiohttp.ClientError):
        error = httpx.RemoteProtocolError(type(exc).__name__)
    else:
        return None
    error.__cause__ = None
    error.__suppress_context__ = True
    return error


def _raise_mapped(exc: Exception) -> NoReturn:
    error = transport_error(exc)
    if error is None:
        raise exc
    raise error from error.__cause__


def _text_items(headers: httpx.Headers) -> list[tuple[str, str]]:
    """``headers.multi_items()`` (lower-case names, as text: what aiohttp takes) with the encoding looked
    up once rather than twice per header (``Headers._list`` holds (name, lower-case name, value); pinned
    against ``multi_items`` by tests/test_aiohttp_transport.py). Lower case matters: aiohttp keeps only
    the last of two names that differ in case alone."""
    encoding = headers.encoding
    return [(name.decode(encoding), value.decode(encoding)) for _, name, value in headers._list]


class _ResponseStream(httpx.AsyncByteStream):
    """The body as aiohttp receives it (still encoded); closing it returns or closes the connection."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            while True:
                chunk = await content.readany()
                if not chunk:
                    return
                yield chunk
        except Exception as exc:
            _raise_mapped(exc)

    async def aclose(self) -> None:
        # Back to the pool if the body was read to its end; closed otherwise (aiohttp decides).
        self._response.release()


async def _request_body(stream: httpx.AsyncByteStream) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield chunk


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport on an aiohttp ``ClientSession`` (HTTP/1.1), with httpx's ``Limits``:
    ``max_connections`` caps the pool, ``keepalive_expiry`` closes idle connections (aiohttp keeps every
    idle connection up to the cap, so ``max_keepalive_connections`` is the cap too)."""

    def __init__(self, *, ssl_context: ssl.SSLContext, limits: httpx.Limits) -> None:
        self._ssl_context = ssl_context
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._other_library: httpx.AsyncHTTPTransport | None = None
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}
        self._targets: dict[int, tuple[httpx.URL, URL]] = {}

    def _session_for(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        global aiohttp, URL
        import aiohttp
        from yarl import URL

        connector = aiohttp.TCPConnector(
            ssl=self._ssl_context,
            limit=self._limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=self._limits.keepalive_expiry,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            max_line_size=65536,  # httpcore (h11) accepts 64 KiB lines: a long header must not fail here
            max_field_size=65536,
        )
        # aiohttp resends a GET/PUT/DELETE once when a reused connection drops; only our retry policy
        # may decide to send a request again (tests/loopback pins this against aiohttp).
        session._retry_connection = False
        self._session, self._loop = session, loop
        return session

    def _timeout(self, timeouts: dict[str, float | None]) -> aiohttp.ClientTimeout:
        key = (timeouts.get("connect"), timeouts.get("read"), timeouts.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            timeout = aiohttp.ClientTimeout(
                total=None,
                connect=None if pool is None or connect is None else pool + connect,  # pool wait + connect
                sock_connect=connect,
                sock_read=read,
            )
            if len(self._timeouts) > 64:
                self._timeouts.clear()
            self._timeouts[key] = timeout
        return timeout

    def _target(self, url: httpx.URL) -> URL:
        """yarl's URL for ``url``, parsed once per URL object: a client sends the same merged URL object
        for every call to a path (``OwnedHttpClient._merge_url``), and ``httpx.URL`` is immutable."""
        kept = self._targets.get(id(url))
        if kept is not None and kept[0] is url:  # the object itself is kept, so its id is not reused
            return kept[1]
        sent = url
        if url.userinfo:  # as httpcore: never on the wire (httpx's auth, ours, decides the Authorization)
            sent = url.copy_with(username=None, password=None)
        target = URL(str(sent), encoded=True)
        if len(self._targets) >= _TARGETS_KEPT:
            self._targets.clear()
        self._targets[id(url)] = (url, target)
        return target

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # trio: httpx's own transport, with the same TLS context and limits
            if self._other_library is None:
                self._other_library = httpx.AsyncHTTPTransport(verify=self._ssl_context, limits=self._limits)
            return await self._other_library.handle_async_request(request)
        session = self._session
        if session is None or self._loop is not loop or session.closed:
            session = self._session_for(loop)
        extensions = request.extensions
        headers = request.headers
        data: Any
        try:
            data = request.content or None
        except httpx.RequestNotRead:  # a streamed upload: aiohttp chunks it itself
            data = _request_body(request.stream)  # type: ignore[arg-type]
            headers = headers.copy()
            headers.pop("transfer-encoding", None)
        try:
            response = await session._request(
                request.method,
                self._target(request.url),
                headers=_text_items(headers),
                data=data,
                allow_redirects=False,
                compress=None,
                timeout=self._timeout(extensions.get("timeout", {})),
                server_hostname=extensions.get("sni_hostname"),
            )
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            error = transport_error(exc) or httpx.ReadTimeout("timed out")
            raise error from error.__cause__
        except ValueError as exc:  # aiohttp refuses CR/LF in a header value rather than sending it
            raise httpx.LocalProtocolError(_server_text(exc)) from None
        reason = response.reason
        answer_extensions = {**_HTTP11, "reason_phrase": reason.encode()} if reason else _HTTP11
        length = response.content_length
        if (
            length is not None
            and length <= PREREAD_BYTES
            and not request.extensions.get(STREAM_EXTENSION)
            and "Content-Encoding" not in response.headers
        ):
            try:
                body = await response.read()
            except Exception as exc:
                _raise_mapped(exc)
            finally:
                response.release()
            read = httpx.Response(
                response.status,
                headers=response.raw_headers,
                stream=httpx.ByteStream(body),
                request=request,
                extensions=answer_extensions,
            )
            read._content = body  # what ``aread()`` stores; read_bounded checks its size
            read.is_stream_consumed = read.is_closed = True  # read to the end, the connection released
            return read
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response),
            request=request,
            extensions=answer_extensions,
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:  # closed from trio: a session of an asyncio loop is that loop's to close
            running = None
        if session is not None and not session.closed and self._loop is running:
            await session.close()
        if self._other_library is not None:
            await self._other_library.aclose()
