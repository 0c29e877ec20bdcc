"""Real loopback servers for the tests: an ASGI app under uvicorn, and a fault-injecting HTTP proxy.

Both run in a background thread with their own event loop (or blocking sockets), so the tests talk to
them over real TCP connections from asyncio or trio alike: bodies arrive streamed, resets are real
resets, a stalled server really stalls.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.client
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn


@contextlib.contextmanager
def serve_sockets(handle: Callable[[socketserver.StreamRequestHandler], None]) -> Iterator[str]:
    """A threaded TCP server on a free loopback port that calls ``handle`` for each connection (blocking
    sockets: the handler writes bytes exactly as a test wants them); yields its ``http://`` URL."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            handle(self)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 128  # 50 connects at once (aiohttp opens them together): none dropped

    server = Server(("127.0.0.1", 0), Handler)
    # polled every 20 ms (not 0.5 s): shutdown() at the end of each test returns at once
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in its own thread and event loop; yields its URL.

    asyncio and trio tests alike can use it (``wise_async.testing.serve_asgi`` runs in the caller's loop).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, interface="asgi3", lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class Exchange:
    """One request as the proxy received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    """A response the proxy writes itself (instead of or after asking the upstream)."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def head(self) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {http.client.responses.get(self.status, 'Whatever')}"]
        names = {name.lower() for name, _ in self.headers}
        lines += [f"{name}: {value}" for name, value in self.headers]
        if "content-length" not in names:
            lines.append(f"content-length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# A fault decides what the client sees: (exchange, ask_upstream) -> bytes to write, then close or not.
Fault = Callable[[Exchange, Callable[[], Answer]], "tuple[bytes, bool]"]


def close_before_headers(*, forward: bool) -> Fault:
    """Drop the connection before any response byte; ``forward`` lets the server act first."""

    def fault(exchange: Exchange, upstream: Callable[[], Answer]) -> tuple[bytes, bool]:
        if forward:
            upstream()
        return b"", True

    return fault


def close_after_headers() -> Fault:
    def fault(exchange: Exchange, upstream: Callable[[], Answer]) -> tuple[bytes, bool]:
        answer = upstream()
        answer.body = answer.body or b"{}"
        return answer.head(), True

    return fault


def close_mid_body() -> Fault:
    def fault(exchange: Exchange, upstream: Callable[[], Answer]) -> tuple[bytes, bool]:
        answer = upstream()
        answer.body = answer.body or b'{"padding": "................"}'
        return answer.head() + answer.body[: max(1, len(answer.body) // 2)], True

    return fault


def stall(seconds: float, *, forward: bool = True) -> Fault:
    """Say nothing for ``seconds`` (past the client's timeout), then drop the connection."""

    def fault(exchange: Exchange, upstream: Callable[[], Answer]) -> tuple[bytes, bool]:
        if forward:
            upstream()
        time.sleep(seconds)
        return b"", True

    return fault


def answer(status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> Fault:
    """Answer without asking the upstream (a gateway's 502, a 429...)."""

    def fault(exchange: Exchange, upstream: Callable[[], Answer]) -> tuple[bytes, bool]:
        reply = Answer(status, list(headers or [("content-type", "application/json")]), body)
        return reply.head() + reply.body, False

    return fault


def gzip_bomb(size: int) -> Fault:
    """A 200 whose small gzip body inflates to ``size`` bytes."""
    body = gzip.compress(b"[" + b" " * size + b"]", compresslevel=9)

    def fault(exchange: Exchange, upstream: Callable[[], Answer]) -> tuple[bytes, bool]:
        reply = Answer(200, [("content-type", "application/json"), ("content-encoding", "gzip")], body)
        return reply.head() + reply.body, False

    return fault


class FaultProxy:
    """An HTTP/1.1 proxy on a loopback port in front of ``upstream`` (a base URL) that injects faults.

    ``add(fault, method=..., path_prefix=..., times=1)`` arms a fault for matching requests; requests
    with no armed fault are forwarded untouched. ``hits`` counts requests that reached the proxy, by
    ``"METHOD /path"``. Without an upstream every request must match a fault.
    """

    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream
        self.hits: Counter[str] = Counter()
        self.exchanges: list[Exchange] = []
        self._faults: list[list[Any]] = []
        self._lock = threading.Lock()
        proxy = self

        self._serving = serve_sockets(lambda handler: proxy._handle(handler.connection, handler.rfile))
        self.url = ""

    def __enter__(self) -> FaultProxy:
        self.url = self._serving.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._serving.__exit__(None, None, None)

    def add(
        self, fault: Fault, *, method: str | None = None, path_prefix: str = "", times: int | None = 1
    ) -> None:
        with self._lock:
            self._faults.append([fault, method, path_prefix, times])

    def count(self, method: str, path: str) -> int:
        return self.hits[f"{method} {path}"]

    def _take(self, exchange: Exchange) -> Fault | None:
        with self._lock:
            for armed in self._faults:
                fault, method, prefix, times = armed
                if method not in (None, exchange.method) or not exchange.path.startswith(prefix):
                    continue
                if times is not None:
                    if times <= 0:
                        continue
                    armed[3] = times - 1
                return fault  # type: ignore[no-any-return]
        return None

    def _forward(self, exchange: Exchange) -> Answer:
        assert self.upstream is not None, "no upstream and no fault for " + exchange.path
        host, port = self.upstream.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            headers = {k: v for k, v in exchange.headers.items() if k not in ("connection", "keep-alive")}
            connection.request(exchange.method, exchange.path, body=exchange.body, headers=headers)
            response = connection.getresponse()
            body = response.read()
            skip = {"transfer-encoding", "connection", "content-length", "keep-alive"}
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in skip]
            return Answer(response.status, kept, body)
        finally:
            connection.close()

    def _handle(self, connection: socket.socket, rfile: Any) -> None:
        while True:
            request_line = rfile.readline(65537)
            if not request_line.strip():
                return
            method, target, _ = request_line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while True:
                line = rfile.readline(65537)
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = rfile.read(int(headers.get("content-length", "0") or 0))
            exchange = Exchange(method, target, headers, body)
            path = target.split("?", 1)[0]
            with self._lock:
                self.hits[f"{method} {path}"] += 1
                self.exchanges.append(exchange)
            fault = self._take(exchange)
            if fault is None:
                reply = self._forward(exchange)
                data, close = reply.head() + reply.body, False
            else:
                data, close = fault(exchange, functools.partial(self._forward, exchange))
            with contextlib.suppress(OSError):
                connection.sendall(data)
            if close:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                return


class LoopbackTransport(httpx.AsyncBaseTransport):
    """httpx's real HTTP transport, connecting every request to one loopback server.

    The request keeps its URL's ``Host`` header (``api.wise-sandbox.com``, ``twcard.wise-sandbox.com``),
    as a DNS override would: the server sees the hosts a real deployment sees, over a real socket.
    """

    def __init__(self, url: str) -> None:
        target = httpx.URL(url)
        self._host, self._port = target.host, target.port
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host=self._host, port=self._port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
