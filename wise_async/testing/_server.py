"""Serve FakeWise (or any ASGI app) with uvicorn on a real loopback socket.

``serve_asgi`` runs the server inside the caller's asyncio loop for the length of an ``async with``
(tests, the demo); ``python -m wise_async.testing serve`` runs FakeWise as a stand-alone process for
other programs and languages, as stripe-mock does for Stripe. uvicorn is an optional dependency
(``pip install 'wise-async[server]'``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["ServedApp", "serve_asgi"]

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ModuleNotFoundError:  # pragma: no cover - depends on the environment
        raise ModuleNotFoundError(
            "serving over a socket needs uvicorn: pip install 'wise-async[server]'"
        ) from None
    return uvicorn


def bind_loopback(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket (``port=0``: a free port the kernel picks, read back from the socket)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


class ServedApp:
    """A running server: ``base_url`` (``http://127.0.0.1:PORT``), ``host`` and ``port``."""

    def __init__(self, host: str, port: int, task: asyncio.Future[None]) -> None:
        self.host = host
        self.port = port
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{port}"
        self._task = task

    async def wait(self) -> None:
        """Until the server stops (Ctrl-C / SIGTERM, which uvicorn turns into a graceful shutdown)."""
        await asyncio.shield(self._task)

    def __repr__(self) -> str:
        return f"ServedApp({self.base_url!r})"


@contextlib.asynccontextmanager
async def serve_asgi(
    app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "critical"
) -> AsyncIterator[ServedApp]:
    """Serve ``app`` with uvicorn on ``host:port`` in the running asyncio loop; stop on exit.

    ``async with serve_asgi(fake.asgi_app) as server: WiseClient(base_url=server.base_url, ...)``.
    Requests are real HTTP/1.1 over TCP: responses stream, connections reset and time out for real.
    The app's lifespan runs (a FastAPI app's startup and shutdown); uvicorn's own logging is off by
    default (``log_level``), so an injected reset prints nothing.
    """
    uvicorn = _uvicorn()
    sock = bind_loopback(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    config = uvicorn.Config(app, log_level=log_level, access_log=False, log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # startup failed: raise its error
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.005)
        yield ServedApp(bound_host, bound_port, task)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()
