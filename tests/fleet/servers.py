"""Real servers for the fleet tests: a ``redis-server`` process and uvicorn serving an ASGI app.

Both listen on free loopback ports and are stopped by their fixtures; nothing here is mocked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


QUIET = ["--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """``redis-server`` on 127.0.0.1:<free port>, persistence off, data dir in a temp dir."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make install` (it installs Redis)")
        self._binary = binary
        self._dir = tempfile.TemporaryDirectory(prefix="wise-redis-")
        for _ in range(5):  # another process may grab the free port between probe and bind
            self.port = free_port()
            if self._start():
                return
        raise RuntimeError("redis-server did not start on a free loopback port")

    def _start(self) -> bool:
        self._process = subprocess.Popen(
            [self._binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self._dir.name, *QUIET],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if self._wait_ready():
            return True
        self._process.kill()
        self._process.wait()
        return False

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections (the kernel's backlog), nothing answers."""
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: connections are reset, new ones refused, the data is gone."""
        self._process.kill()
        self._process.wait()

    def restart(self) -> None:
        """A new redis-server on the same port (after ``kill``)."""
        for _ in range(50):  # the port may linger for a moment
            if self._start():
                return
            time.sleep(0.1)
        raise RuntimeError(f"redis-server did not restart on port {self.port}")

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return True
            except OSError:
                time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGCONT)
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._dir.cleanup()


class ThreadedUvicorn:
    """uvicorn serving ``app`` from a thread of the test process, on a pre-bound loopback socket."""

    def __init__(self, app: ASGIApp) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            app,
            interface="asgi3",
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

    def _run(self) -> None:
        # Timestamps taken in the app should read arrivals, not this thread's scheduling delays on a
        # busy machine: where allowed (root, as in CI), this thread runs ahead of the clients.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -10)
        self._server.run(sockets=[self._socket])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def sliding_window_max(times: list[float], window: float) -> int:
    """The largest number of ``times`` falling in any half-open interval of length ``window``."""
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
