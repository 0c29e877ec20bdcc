"""The httpx client a ``WiseClient`` creates for itself (not one passed as ``http_client=``).

It differs from a plain ``httpx.AsyncClient`` in three ways:

* a call after ``aclose()`` is a ``ClientClosedError``;
* responses' ``Set-Cookie`` headers are not stored: Wise authenticates every call with a token, and a
  jar filled by one response would ride along on later calls. Cookies set on the client itself are
  still sent. Keeping none also saves httpx's cookie parsing on every response (an ``email.message``
  and a ``urllib`` request per response: ~5% of a 20-recipient page's CPU);
* the absolute URL of a relative path is worked out once per path and base URL, not on every request
  (httpx parses and validates the joined URL each time: ~6% of that page's CPU);
* a request without a body, query or cookies is built from headers merged once per client headers and
  host (``Host`` first, then the client's, then the call's, as httpx's ``build_request`` orders them),
  not re-merged and re-prepared on every call (~5% of a call's CPU at 200 in flight);
* ``send`` runs the auth flow over the transport itself instead of through httpx's three nested send
  methods (redirect loop, event hooks, mounts, a per-request timer and stream wrapper: ~20% of the CPU of
  a call at 200 in flight). It keeps what those do for this client: the auth flow and ``history``,
  ``next_request`` on a 3xx, httpx's INFO log line, ``elapsed`` on a streamed response. A client with event
  hooks, mounts or ``follow_redirects`` goes through httpx's own ``send``
  (``tests/client/test_owned_send.py`` compares the two).
"""

from __future__ import annotations

import datetime
import inspect
import logging
import ssl
import time
from collections.abc import AsyncIterator, Coroutine, Mapping
from typing import Any, NoReturn

import httpx
from httpx._client import ClientState, UseClientDefault

from ._exceptions import ClientClosedError

_MERGED_URLS_KEPT = 512
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_HOST = "host"
_NO_BODY = httpx.ByteStream(b"")
_new_request = object.__new__
_httpx_logger = logging.getLogger("httpx")

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=5.0)
"""The pool of a client's own transport: up to 100 connections, every idle one kept (httpx's default
keeps 20 of 100: once a server keeps more than 20 busy, each connection that goes idle is closed and
the next call opens a new TCP and TLS connection), and an idle one closed after 5 s, well before a
server or load balancer drops it (Wise does not document its own; common load balancers wait 60 s or
more). Change it with ``WiseClient(limits=httpx.Limits(...))``."""


def default_transport(
    ssl_context: ssl.SSLContext, limits: httpx.Limits, backend: str | None = None
) -> httpx.AsyncBaseTransport:
    """The innermost transport of a client's own stack: aiohttp's pool on asyncio (httpx's on trio);
    ``backend="httpcore"`` (``WISE_HTTP_BACKEND``): httpx's on asyncio too."""
    if backend == "httpcore":
        return httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits)
    from ._aiohttp_transport import AiohttpTransport

    return AiohttpTransport(ssl_context=ssl_context, limits=limits)


def _without_host(headers: Any) -> bool:
    """A call's headers as the generated client passes them (a dict of str), naming no ``Host``."""
    return type(headers) is dict and all(type(key) is str and key.lower() != _HOST for key in headers)


class _SentCookiesOnly(httpx.Cookies):
    """The client's own cookies, sent with every request; nothing taken from responses."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


_BUILD_KEYS = frozenset(inspect.signature(httpx.AsyncClient.build_request).parameters) - {"self"}


async def _raised(exc: Exception) -> NoReturn:
    raise exc


def _any_cookie(cookies: httpx.Cookies) -> bool:
    """``bool(cookies)`` (httpx walks every cookie with a generator), answered at once for an empty jar:
    ``http.cookiejar`` keeps its cookies in ``_cookies`` (domain -> path -> name)."""
    return bool(cookies.jar._cookies) and bool(cookies)  # type: ignore[attr-defined]


class _TimedStream(httpx.AsyncByteStream):
    """A streamed body that sets ``response.elapsed`` when closed (what httpx's own wrapper does)."""

    def __init__(self, stream: httpx.AsyncByteStream, response: httpx.Response, start: float) -> None:
        self._stream, self._response, self._start = stream, response, start

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        self._response.elapsed = datetime.timedelta(seconds=time.perf_counter() - self._start)
        await self._stream.aclose()


class OwnedHttpClient(httpx.AsyncClient):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cookies = self._cookies
        self._merged_urls: dict[str, httpx.URL] = {}
        self._merged_for: httpx.URL = self._base_url
        self._bodyless_headers: dict[bytes, tuple[list[tuple[bytes, bytes, bytes]], httpx.Headers]] = {}

    @property
    def cookies(self) -> httpx.Cookies:
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._cookies = _SentCookiesOnly(cookies)

    def _merge_url(self, url: httpx.URL | str) -> httpx.URL:
        if type(url) is not str:
            return super()._merge_url(url)
        if self._merged_for is not self._base_url:  # base_url was set since
            self._merged_urls.clear()
            self._merged_for = self._base_url
        merged = self._merged_urls.get(url)
        if merged is None:
            merged = super()._merge_url(url)
            if len(self._merged_urls) >= _MERGED_URLS_KEPT:
                self._merged_urls.clear()
            self._merged_urls[url] = merged
        return merged

    def build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        params: Any = None,
        headers: Any = None,
        cookies: Any = None,
        timeout: Any = httpx.USE_CLIENT_DEFAULT,
        extensions: Mapping[str, Any] | None = None,
    ) -> httpx.Request:
        method = method.upper()
        if (
            content is not None
            or data is not None
            or files is not None
            or json is not None
            or params
            or cookies
            or self._params
            or _any_cookie(self._cookies)
            or method in _BODY_METHODS  # httpx adds ``Content-Length: 0`` to these
            or (headers and not _without_host(headers))
        ):
            return super().build_request(
                method,
                url,
                content=content,
                data=data,
                files=files,
                json=json,
                params=params,
                headers=headers,
                cookies=cookies,
                timeout=timeout,
                extensions=extensions,
            )
        merged_url = self._merge_url(url)
        merged = self._bodyless_headers_for(merged_url)
        if headers:
            merged = httpx.Headers(merged)
            merged.update(headers)
        extensions = {} if extensions is None else dict(extensions)  # the request's own, as httpx copies it
        if "timeout" not in extensions:
            chosen = self.timeout if isinstance(timeout, UseClientDefault) else httpx.Timeout(timeout)
            extensions["timeout"] = chosen.as_dict()
        # What ``httpx.Request(method, url, headers=, extensions=, stream=<empty>)`` then ``read()`` set
        # (tests/client/test_owned_send.py compares every attribute with httpx's own), without copying
        # the URL: the very object (``httpx.URL`` is immutable), which the aiohttp transport knows from
        # the previous call. ``stream=`` means no body encoding or automatic headers: ``merged`` has them.
        request = _new_request(httpx.Request)
        request.method = method
        request.url = merged_url
        request.headers = httpx.Headers(merged)
        request.extensions = extensions
        request.stream = _NO_BODY
        request._content = b""
        return request

    def _bodyless_headers_for(self, url: httpx.URL) -> httpx.Headers:
        """``Host`` (unless the client's headers name one) and the client's headers, as httpx's
        ``Request`` would prepare them for a request without a body."""
        client: list[tuple[bytes, bytes, bytes]] = self._headers._list  # compared, not copied, per call
        cached = self._bodyless_headers.get(url.netloc)
        if cached is not None and cached[0] == client:
            return cached[1]
        host = [] if _HOST in self._headers or not url.host else [(b"Host", url.netloc)]
        merged = httpx.Headers(host + self._headers.raw, encoding=None)
        if len(self._bodyless_headers) >= _MERGED_URLS_KEPT:
            self._bodyless_headers.clear()
        self._bodyless_headers[url.netloc] = (list(client), merged)
        return merged

    def _prepared_send(self, request_kwargs: dict[str, Any]) -> Coroutine[Any, Any, httpx.Response]:
        """``await client.request(**request_kwargs)`` without a coroutine frame of its own under the call
        (the SDK's operations): the request is built now, and a failure to build it is raised when the
        result is awaited, as ``request`` raises it."""
        if not _BUILD_KEYS.issuperset(request_kwargs):  # auth=, follow_redirects=: httpx's request
            return self.request(**request_kwargs)
        try:
            request = self.build_request(**request_kwargs)
        except Exception as exc:
            return _raised(exc)
        return self.send(request)

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: httpx._types.AuthTypes | UseClientDefault | None = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        if self.is_closed:
            raise ClientClosedError("this WiseClient is closed; create a new one")
        hooks = self._event_hooks
        if (
            hooks["request"]
            or hooks["response"]
            or self._mounts
            or (self.follow_redirects if isinstance(follow_redirects, UseClientDefault) else follow_redirects)
        ):
            return await super().send(request, stream=stream, auth=auth, follow_redirects=follow_redirects)
        self._state = ClientState.OPENED
        self._set_timeout(request)
        flow = self._build_request_auth(request, auth).async_auth_flow(request)
        history: list[httpx.Response] = []
        try:
            request = await flow.__anext__()
            while True:
                started = time.perf_counter()
                response = await self._transport.handle_async_request(request)
                self._received(request, response, history, started)
                try:
                    try:
                        next_request = await flow.asend(response)
                    except StopAsyncIteration:
                        break
                    await response.aread()
                    request = next_request
                    history.append(response)
                except BaseException:
                    await response.aclose()
                    raise
        finally:
            await flow.aclose()
        try:
            if not stream:
                await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response

    def _received(
        self, request: httpx.Request, response: httpx.Response, history: list[httpx.Response], started: float
    ) -> None:
        """What httpx's ``_send_single_request`` does with a transport's answer (a plain function: no
        coroutine frame of its own on every resumption of the call)."""
        response.request = request
        if not response.is_closed:  # a streamed body: ``elapsed`` once it is closed
            response.stream = _TimedStream(response.stream, response, started)  # type: ignore[arg-type]
        response.default_encoding = self._default_encoding
        response.history = list(history) if history else []
        if _httpx_logger.isEnabledFor(logging.INFO):
            _httpx_logger.info(
                'HTTP Request: %s %s "%s %d %s"',
                request.method,
                request.url,
                response.http_version,
                response.status_code,
                response.reason_phrase,
            )
        if 300 <= response.status_code < 400 and response.has_redirect_location:
            response.next_request = self._build_redirect_request(request, response)
