"""The httpx client a ``WiseClient`` creates for itself (not one passed as ``http_client=``).

It differs from a plain ``httpx.AsyncClient`` in three ways:

* a call after ``aclose()`` is a ``ClientClosedError``;
* responses' ``Set-Cookie`` headers are not stored: Wise authenticates every call with a token, and a
  jar filled by one response would ride along on later calls. Cookies set on the client itself are
  still sent. Keeping none also saves httpx's cookie parsing on every response (an ``email.message``
  and a ``urllib`` request per response: ~5% of a 20-recipient page's CPU);
* the absolute URL of a relative path is worked out once per path and base URL, not on every request
  (httpx parses and validates the joined URL each time: ~6% of that page's CPU).
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from ._exceptions import ClientClosedError

_MERGED_URLS_KEPT = 512

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


class _SentCookiesOnly(httpx.Cookies):
    """The client's own cookies, sent with every request; nothing taken from responses."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class OwnedHttpClient(httpx.AsyncClient):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cookies = self._cookies
        self._merged_urls: dict[str, httpx.URL] = {}
        self._merged_for: httpx.URL = self._base_url

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

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if self.is_closed:
            raise ClientClosedError("this WiseClient is closed; create a new one")
        return await super().send(request, **kwargs)
