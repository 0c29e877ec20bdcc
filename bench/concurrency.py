"""Calls in flight over loopback: ``wise.profiles.list()`` against aiohttp ``ClientSession`` + ``json.loads``.

A server process (``taskset -c 1``) answers ``GET /v2/profiles`` with FakeWise's two profiles after a
fixed latency (20 ms: a real server's think time, which is what keeps many connections busy at once), on
keep-alive HTTP/1.1 connections, and counts the TCP connections it accepts. The client process
(``taskset -c 0``) runs, for each level of concurrency, interleaved rounds (the side that goes first
alternates) of a fixed number of calls per side, ``in_flight`` workers sharing them (bounded loops):

* ``wise_async``: one ``WiseClient(personal_token=..., base_url=server)`` (its default transport);
* ``wise_async_httpcore``: the same with ``WISE_HTTP_BACKEND=httpcore`` (httpx's own pool, as on trio);
* ``aiohttp``: one ``aiohttp.ClientSession()`` (its defaults), ``json.loads(await response.read())``.

Per side: calls/s (wall), this process's CPU µs per call (``time.process_time``: on a shared machine
wall time also counts other processes), and the TCP connections the server accepted over the client's
whole life (warm-up included): more than ``in_flight`` means a pool that closes and reopens connections.
Ratios are medians of the per-round ratios to aiohttp: ``wise_async`` and ``aiohttp`` alternate in one
phase, then ``wise_async_httpcore`` alternates with ``aiohttp`` in a second (its blocks are long).

Run: ``python -m bench.concurrency [--rounds N] [--latency-ms MS]`` (prints JSON), or ``make bench``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-personal-token"
Figures = dict[str, Any]
Call = Callable[[], Awaitable[Any]]
# in flight -> calls per side per round (1 in flight waits the latency for every call)
LEVELS = {1: 60, 200: 2400}
CLIENT_CPU, SERVER_CPU = 0, 1


# --- the server (its own process and core) ---------------------------------------------------------


class _Connection(asyncio.Protocol):
    answer = b""
    latency = 0.0
    accepted = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        type(self).accepted += 1
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        loop = asyncio.get_running_loop()
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:  # GETs only: no request bodies
            self.buffer = self.buffer[end + 4 :]
            loop.call_later(self.latency, self._answer)

    def _answer(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(self.answer)  # type: ignore[attr-defined]


async def _serve(latency: float, body: bytes) -> None:
    _Connection.latency = latency
    _Connection.answer = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\n".encode()
        + b"x-trace-id: 0000000000000001\r\n\r\n"
        + body
    )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Connection, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():  # "count": connections accepted so far; EOF: stop
        if line.strip() == b"count":
            print(_Connection.accepted, flush=True)
    server.close()


def _pin(cpu: int) -> int | None:
    """This process on one core (what ``taskset -c CPU`` does), where the machine has it."""
    if not hasattr(os, "sched_setaffinity") or cpu >= (os.cpu_count() or 1):
        return None
    os.sched_setaffinity(0, {cpu})
    return cpu


class Server:
    def __init__(self, latency: float, body: bytes) -> None:
        command = [sys.executable, "-m", "bench.concurrency", "--serve", "--latency-ms", str(latency * 1000)]
        if shutil.which("taskset") and (os.cpu_count() or 1) > SERVER_CPU:
            command = ["taskset", "-c", str(SERVER_CPU), *command]
        self._process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(body.hex() + "\n")
        self.url = f"http://127.0.0.1:{self._process.stdout.readline().strip()}"

    def accepted(self) -> int:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write("count\n")
        return int(self._process.stdout.readline())

    def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


# --- the client ------------------------------------------------------------------------------------


async def _block(call: Call, calls: int, in_flight: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) for ``calls`` calls made by ``in_flight`` workers."""
    share, extra = divmod(calls, in_flight)

    async def worker(n: int) -> None:
        for _ in range(n):
            await call()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(share + (i < extra)) for i in range(in_flight)))
    return time.perf_counter() - wall, time.process_time() - cpu


async def _level(in_flight: int, calls: int, rounds: int, latency: float, body: bytes) -> Figures:
    import aiohttp

    from wise_async import WiseClient

    servers = {side: Server(latency, body) for side in ("wise_async", "wise_async_httpcore", "aiohttp")}
    session = aiohttp.ClientSession()
    aiohttp_url = f"{servers['aiohttp'].url}/v2/profiles"
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def raw_aiohttp() -> Any:
        async with session.get(aiohttp_url, headers=headers) as response:
            response.raise_for_status()
            return json.loads(await response.read())

    os.environ.pop("WISE_HTTP_BACKEND", None)
    wise = WiseClient(personal_token=TOKEN, base_url=servers["wise_async"].url)
    os.environ["WISE_HTTP_BACKEND"] = "httpcore"
    wise_httpcore = WiseClient(personal_token=TOKEN, base_url=servers["wise_async_httpcore"].url)
    os.environ.pop("WISE_HTTP_BACKEND")
    sides: dict[str, Call] = {
        "wise_async": wise.profiles.list,
        "aiohttp": raw_aiohttp,
        "wise_async_httpcore": wise_httpcore.profiles.list,
    }
    # httpcore at 200 in flight is ~30x slower: fewer calls keep its blocks short. It runs after the
    # wise_async/aiohttp rounds, against aiohttp blocks of its own, so its long blocks never leave the
    # default pool idle past its keep-alive expiry (connections counted are opened under load, not expiry).
    slow = calls if in_flight == 1 else max(calls // 10, in_flight)
    share = {"wise_async": calls, "aiohttp": calls, "wise_async_httpcore": slow}
    times: dict[str, list[tuple[float, float]]] = {side: [] for side in sides}
    aiohttp_beside_httpcore: list[tuple[float, float]] = []
    connections: dict[str, int] = {}
    try:
        for phase in (("wise_async", "aiohttp"), ("wise_async_httpcore", "aiohttp")):
            for side in phase:  # warm-up: imports, pools, caches
                await _block(sides[side], in_flight, in_flight)
            for index in range(rounds):
                for side in phase if index % 2 == 0 else reversed(phase):
                    wall, cpu = await _block(sides[side], share[phase[0]], in_flight)
                    measured = times[side] if phase[0] == "wise_async" or side != "aiohttp" else None
                    (measured if measured is not None else aiohttp_beside_httpcore).append(
                        (wall / share[phase[0]], cpu / share[phase[0]])
                    )
            connections[phase[0]] = servers[phase[0]].accepted()
        connections["aiohttp"] = servers["aiohttp"].accepted()
    finally:
        await session.close()
        await wise.aclose()
        await wise_httpcore.aclose()
        for server in servers.values():
            server.stop()
    figures: Figures = {"in_flight": in_flight, "latency_ms": latency * 1000, "rounds": rounds}
    for side, measured in times.items():
        figures[side] = {
            "calls_per_s": round(1 / statistics.median(w for w, _ in measured)),
            "cpu_us_per_call": round(statistics.median(c for _, c in measured) * 1e6, 1),
            "connections_opened": connections[side],
            "calls": share[side] * rounds + in_flight,
        }
        if side != "aiohttp":
            base = times["aiohttp"] if side == "wise_async" else aiohttp_beside_httpcore
            figures[side]["throughput_ratio"] = round(
                statistics.median(b[0] / m[0] for b, m in zip(base, measured, strict=True)), 3
            )
            figures[side]["cpu_ratio"] = round(
                statistics.median(m[1] / b[1] for b, m in zip(base, measured, strict=True)), 3
            )
    return figures


async def measure_all(rounds: int, latency: float) -> Figures:
    from bench.calls import profiles_body

    body = await profiles_body()
    pinned = _pin(CLIENT_CPU)
    figures: Figures = {"client_cpu": pinned, "server_cpu": SERVER_CPU if pinned is not None else None}
    for in_flight, calls in LEVELS.items():
        figures[f"in_flight_{in_flight}"] = await _level(in_flight, calls, rounds, latency, body)
    return figures


def measure(*, rounds: int = 5, latency_ms: float = 20.0) -> Figures:
    """The whole measure in a fresh interpreter (``bench.run`` calls this)."""
    from bench.calls import figures_of_child

    return figures_of_child("bench.concurrency", "--rounds", str(rounds), "--latency-ms", str(latency_ms))


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--serve", action="store_true", help="(internal) the benchmark's server")
    args = parser.parse_args(argv)
    if args.serve:
        body = bytes.fromhex(sys.stdin.readline().strip())
        asyncio.run(_serve(args.latency_ms / 1000, body))
        return 0
    print(json.dumps(asyncio.run(measure_all(args.rounds, args.latency_ms / 1000))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
