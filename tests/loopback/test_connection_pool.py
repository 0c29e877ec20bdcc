"""The connection pool a WiseClient builds for itself (aiohttp's or httpcore's): connections are kept, not
churned, under more calls in flight than httpx keeps alive by default, and the pool never resends a
request on its own."""

from __future__ import annotations

import asyncio
import socketserver
import threading
import time

import httpx
import pytest

from wise_async import APIConnectionError, WiseClient

from .servers import serve_sockets

OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


class KeepAliveServer:
    """Answers every request on a keep-alive connection after ``latency``; counts connections and requests.
    ``drop_request`` (1-based, per connection): that request is read, then the connection is closed."""

    def __init__(self, latency: float = 0.0, drop_request: int | None = None) -> None:
        self.latency, self.drop_request = latency, drop_request
        self.connections = 0
        self.requests = 0
        self._lock = threading.Lock()

    def handle(self, handler: socketserver.StreamRequestHandler) -> None:
        with self._lock:
            self.connections += 1
        served = 0
        while handler.rfile.readline(65537):
            length = 0
            while (line := handler.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            handler.rfile.read(length)
            served += 1
            with self._lock:
                self.requests += 1
            if served == self.drop_request:
                return  # closed without an answer: the client's request may have been processed
            time.sleep(self.latency)
            handler.wfile.write(OK)


async def test_more_calls_in_flight_than_httpx_keeps_alive_reuse_the_same_connections() -> None:
    # 30 callers, each making its calls one after another: with httpx's default limits (20 kept alive)
    # every connection that goes idle while 30 are open is closed, and the caller's next call opens one.
    server = KeepAliveServer(latency=0.02)
    with serve_sockets(server.handle) as url:
        async with WiseClient(personal_token="t", base_url=url) as wise:

            async def caller() -> None:
                for _ in range(4):
                    await wise.http_client.get("/v1/me")

            await asyncio.gather(*(caller() for _ in range(30)))
    assert server.requests == 120
    assert server.connections <= 30, "idle connections were closed and new ones opened"


async def test_limits_cap_the_connections() -> None:
    server = KeepAliveServer(latency=0.01)
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    with serve_sockets(server.handle) as url:
        async with WiseClient(personal_token="t", base_url=url, limits=limits) as wise:
            await asyncio.gather(*(wise.http_client.get("/v1/me") for _ in range(40)))
    assert server.requests == 40
    assert server.connections <= 4


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_the_pool_never_resends_a_request_whose_reused_connection_drops(method: str) -> None:
    # aiohttp resends idempotent methods once on its own when a kept-alive connection drops; only the
    # client's retry policy may send a request again (here: none).
    server = KeepAliveServer(drop_request=2)
    with serve_sockets(server.handle) as url:
        async with WiseClient(personal_token="t", base_url=url, max_retries=0) as wise:
            first = await wise.http_client.request(method, "/v1/things/1", json={"a": 1})
            assert first.status_code == 200
            with pytest.raises(APIConnectionError):
                await wise.http_client.request(method, "/v1/things/1", json={"a": 1})
    assert server.requests == 2
    assert server.connections == 1


def test_limits_configure_the_default_transport_only() -> None:
    with pytest.raises(ValueError, match="limits="):
        WiseClient(personal_token="t", transport=httpx.MockTransport(httpx.Response), limits=httpx.Limits())
