"""What the SDK adds to a call, side by side with hand-written httpx (``bench.run`` records the figures).

Every figure here is a ratio from interleaved runs: each round times a short block of raw-httpx calls and
a block of SDK calls (order alternating between rounds) in the same process, so a load change on the
machine affects both alike. The ratio is of this process's CPU time (``time.process_time``): on a busy
machine wall time also counts the time other processes held the CPU, and for the loopback paging the
server's time (the same for both) would dilute the ratio. ``ratio`` is the median of the per-round
ratios, with ``ratio_min`` and ``ratio_max`` beside it; per-call medians (CPU and wall) and the wall
ratio are recorded too.

* ``facade``: ``await wise.profiles.list()`` (two profiles, typed models) against ``await
  client.get("/v2/profiles")`` + ``json.loads`` on a plain ``httpx.AsyncClient`` — both over the same
  in-process transport, which answers with an unread streamed body as a socket transport does.
* ``stack``: the same request through ``wise.http_client`` (auth flow, JOSE check, retrying transport
  with its bounded read; no parsing) against the plain client. The SDK's own client stores no response
  cookies and joins each path to the base URL once, which a plain client redoes on every request;
  ``sdk_over_lean_httpx`` compares it with a raw client doing the same (what the SDK's layers add).
* ``facade_otel_noop`` / ``stack_otel_noop``: those two calls with ``OpenTelemetryHooks()`` on the
  OpenTelemetry API's no-op providers against the same calls without hooks (what instrumenting costs an
  app that configured no OpenTelemetry SDK; the raw-client ``stack`` request is no logical call, so
  it only pays the check for hooks).
* ``parse``: the generated ``_parse_response`` for that body against ``json.loads`` of it.
* ``construction``: ``WiseClient()`` after the first one in a process (shared TLS context and table).
* ``operation_table``: building the operation table of 238 operations (in a fresh interpreter).
* ``paging``: 10,000 recipients (20 a page) from a loopback HTTP server in its own process, through
  ``wise.iter_recipients`` against the same paging hand-written with httpx + ``json.loads`` (an async
  generator yielding each recipient, sending the query the SDK sends: ``active=true`` is the spec's
  default); both are consumed one recipient per ``anext``. A third side in the same rounds, the raw
  loop building the same typed models with the generated parser (``typed_models_floor``), is the ratio
  of any paging that returns these models. Beside it, the parts of a page (raw GET, the SDK's stack, the
  generated parser, the facade call) per page.

Run one: ``python -m bench.calls facade`` (prints JSON).
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "https://api.sandbox.transferwise.tech"
TOKEN = "bench-personal-token"
Figures = dict[str, Any]
Call = Callable[[], Awaitable[Any]]


# --- in-process answers --------------------------------------------------------------------------


async def profiles_body() -> bytes:
    """FakeWise's answer to ``GET /v2/profiles`` for a user with a personal and a business profile."""
    from wise_async.testing import FakeWise

    fake = FakeWise()
    token = fake.add_personal_token()
    async with httpx.AsyncClient(transport=fake.transport(), base_url=BASE_URL) as client:
        response = await client.get("/v2/profiles", headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        body = response.content
    if len(json.loads(body)) != 2:
        raise RuntimeError("expected two profiles from FakeWise")
    return body


class _Body(httpx.AsyncByteStream):
    def __init__(self, body: bytes) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._body


class StaticTransport(httpx.AsyncBaseTransport):
    """Answers every request with the same JSON body, as an unread stream (like a socket transport)."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-trace-id", b"0000000000000001"),
        ]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=self._headers, stream=_Body(self._body), request=request)


async def _block(call: Call, n: int) -> tuple[float, float]:
    """Seconds per call over ``n`` calls: (this process's CPU time, wall clock)."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        await call()
    return (time.process_time() - cpu) / n, (time.perf_counter() - wall) / n


async def interleaved(raw: Call, sdk: Call, *, rounds: int, per_round: int) -> Figures:
    """``rounds`` short blocks of each, alternating which goes first; ratios of CPU time per round."""
    for _ in range(max(per_round, 20)):  # warm-up: lazy imports, pools, caches
        await raw()
        await sdk()
    raw_times: list[tuple[float, float]] = []
    sdk_times: list[tuple[float, float]] = []
    gc.collect()
    for index in range(rounds):
        if index % 2:
            sdk_times.append(await _block(sdk, per_round))
            raw_times.append(await _block(raw, per_round))
        else:
            raw_times.append(await _block(raw, per_round))
            sdk_times.append(await _block(sdk, per_round))
    return ratio_figures(raw_times, sdk_times, unit="us", scale=1e6)


def ratio_figures(
    raw: list[tuple[float, float]], sdk: list[tuple[float, float]], *, unit: str, scale: float
) -> Figures:
    """Ratios of CPU time (what the SDK costs this process; steady on a loaded machine, where wall
    time also counts the time other processes held the CPU), plus the wall-clock medians beside them."""
    ratios = [s[0] / r[0] for r, s in zip(raw, sdk, strict=True) if r[0] > 0]
    return {
        "ratio": round(statistics.median(ratios), 3),
        "ratio_min": round(min(ratios), 3),
        "ratio_max": round(max(ratios), 3),
        f"raw_cpu_median_{unit}": round(statistics.median(r[0] for r in raw) * scale, 2),
        f"sdk_cpu_median_{unit}": round(statistics.median(s[0] for s in sdk) * scale, 2),
        f"raw_wall_median_{unit}": round(statistics.median(r[1] for r in raw) * scale, 2),
        f"sdk_wall_median_{unit}": round(statistics.median(s[1] for s in sdk) * scale, 2),
        "wall_ratio": round(
            statistics.median(s[1] / r[1] for r, s in zip(raw, sdk, strict=True) if r[1] > 0), 3
        ),
        "rounds": len(ratios),
    }


def _plain_client(
    transport: httpx.AsyncBaseTransport, client: type[httpx.AsyncClient] = httpx.AsyncClient
) -> httpx.AsyncClient:
    return client(base_url=BASE_URL, transport=transport, headers={"Authorization": f"Bearer {TOKEN}"})


async def _facade(rounds: int, per_round: int) -> Figures:
    from wise_async import WiseClient

    body = await profiles_body()
    async with (
        _plain_client(StaticTransport(body)) as plain,
        WiseClient(personal_token=TOKEN, transport=StaticTransport(body)) as wise,
    ):

        async def raw() -> Any:
            response = await plain.get("/v2/profiles")
            if response.status_code != 200:
                raise RuntimeError(response.status_code)
            return json.loads(response.content)

        async def sdk() -> Any:
            return await wise.profiles.list()

        profiles = await sdk()
        if [type(p).__name__ for p in profiles] != ["PersonalProfile", "BusinessProfile"]:
            raise RuntimeError(f"unexpected parse: {profiles!r}")
        figures = await interleaved(raw, sdk, rounds=rounds, per_round=per_round)
        figures["components_cpu_us"] = await _facade_components(wise, plain, raw, sdk, rounds, per_round)
    figures["body_bytes"] = len(body)
    return figures


async def _facade_components(
    wise: Any, plain: httpx.AsyncClient, raw: Call, sdk: Call, rounds: int, per_round: int
) -> Figures:
    """Where a facade call's time goes, each part timed in the same interleaved rounds (CPU µs per
    call): the raw call, the same request through the SDK's httpx stack, then through
    ``_send_operation`` (per-call options and the whole-call budget, ``asyncio.timeout``), the
    generated parser alone, and the facade call. ``floor_ratio`` is (``send_operation`` + ``parse``)
    ÷ ``raw_get_json``: the facade's ratio if everything between them cost nothing."""
    from wise_api.api.profile import profile_list

    stacked = wise.http_client
    response = await stacked.get("/v2/profiles")
    low_level = wise.low_level_client
    phase = httpx.Timeout(30.0, connect=10.0)

    async def raw_get() -> Any:
        return await plain.get("/v2/profiles")

    async def stack_request() -> Any:
        return await stacked.request(
            method="get", url="/v2/profiles", headers={}, extensions={}, timeout=phase
        )

    async def send_operation() -> Any:
        request = {"method": "get", "url": "/v2/profiles", "headers": {}}
        return await wise._send_operation(request, operation_id="profileList")

    async def parse() -> Any:
        return profile_list._parse_response(client=low_level, response=response)

    parts: dict[str, Call] = {
        "raw_get": raw_get,
        "raw_get_json": raw,
        "stack_request": stack_request,
        "send_operation": send_operation,
        "parse": parse,
        "facade": sdk,
    }
    samples: dict[str, list[float]] = {name: [] for name in parts}
    for _ in range(rounds // 2 or 1):
        for name, call in parts.items():
            samples[name].append((await _block(call, per_round))[0])
    medians = {name: round(statistics.median(values) * 1e6, 2) for name, values in samples.items()}
    medians["floor_ratio"] = round(
        (medians["send_operation"] + medians["parse"]) / medians["raw_get_json"], 3
    )
    return medians


async def _stack(rounds: int, per_round: int) -> Figures:
    from wise_async import WiseClient
    from wise_async._http_client import OwnedHttpClient

    body = await profiles_body()
    async with (
        _plain_client(StaticTransport(body)) as plain,
        WiseClient(personal_token=TOKEN, transport=StaticTransport(body)) as wise,
    ):
        stacked = wise.http_client

        async def raw() -> Any:
            return (await plain.get("/v2/profiles")).content

        async def sdk() -> Any:
            return (await stacked.get("/v2/profiles")).content

        figures = await interleaved(raw, sdk, rounds=rounds, per_round=per_round)
        # The SDK's client stores no response cookies and joins each path to the base URL once; a raw
        # client doing the same shows what the SDK's layers (auth, JOSE check, retries, bounded read) add.
        async with _plain_client(StaticTransport(body), OwnedHttpClient) as lean:

            async def lean_raw() -> Any:
                return (await lean.get("/v2/profiles")).content

            beyond_lean = await interleaved(lean_raw, sdk, rounds=rounds, per_round=per_round)
        figures["sdk_over_lean_httpx"] = {
            key: beyond_lean[key] for key in ("ratio", "ratio_min", "ratio_max", "raw_cpu_median_us")
        }
        return figures


async def _with_hooks(rounds: int, per_round: int, *, facade: bool) -> Figures:
    """The same SDK call with ``OpenTelemetryHooks()`` on OpenTelemetry's global providers — the API's
    no-op ones, as in an app that installed ``wise-async[otel]`` but configured no SDK — against the call
    on a client without hooks (the ``raw`` side here), interleaved in one process.
    ``opentelemetry_loaded_without_hooks`` says whether anything before the hooks imported OpenTelemetry
    (the hook-less side runs as if it were not installed)."""
    from wise_async import WiseClient

    body = await profiles_body()
    loaded_without_hooks = any(name.split(".")[0] == "opentelemetry" for name in sys.modules)
    from wise_async.otel import OpenTelemetryHooks

    async with (
        WiseClient(personal_token=TOKEN, transport=StaticTransport(body)) as bare,
        WiseClient(
            personal_token=TOKEN, transport=StaticTransport(body), hooks=[OpenTelemetryHooks()]
        ) as hooked,
    ):
        if facade:

            async def without() -> Any:
                return await bare.profiles.list()

            async def with_hooks() -> Any:
                return await hooked.profiles.list()

        else:

            async def without() -> Any:
                return (await bare.http_client.get("/v2/profiles")).content

            async def with_hooks() -> Any:
                return (await hooked.http_client.get("/v2/profiles")).content

        figures = await interleaved(without, with_hooks, rounds=rounds, per_round=per_round)
    figures["opentelemetry_loaded_without_hooks"] = loaded_without_hooks
    return figures


async def _facade_otel_noop(rounds: int, per_round: int) -> Figures:
    return await _with_hooks(rounds, per_round, facade=True)


async def _stack_otel_noop(rounds: int, per_round: int) -> Figures:
    return await _with_hooks(rounds, per_round, facade=False)


async def _parse(rounds: int, per_round: int) -> Figures:
    from wise_api.api.profile import profile_list

    from wise_async import WiseClient

    body = await profiles_body()
    async with WiseClient(personal_token=TOKEN, transport=StaticTransport(body)) as wise:
        response = await wise.http_client.get("/v2/profiles")
        client = wise.low_level_client

    async def raw() -> Any:
        return json.loads(response.content)

    async def sdk() -> Any:
        return profile_list._parse_response(client=client, response=response)

    return await interleaved(raw, sdk, rounds=rounds, per_round=per_round * 4)


async def _construction(rounds: int, per_round: int) -> Figures:
    """``WiseClient()`` with the default (socket) transport: the first in the process, then later ones."""
    from wise_async import WiseClient

    started = time.perf_counter()
    first = WiseClient(personal_token=TOKEN)
    first_ms = (time.perf_counter() - started) * 1000
    await first.aclose()
    samples = []
    for _ in range(rounds * 4):
        started = time.perf_counter()
        client = WiseClient(personal_token=TOKEN)
        samples.append((time.perf_counter() - started) * 1000)
        await client.aclose()
    return {
        "first_ms": round(first_ms, 2),
        "later_median_ms": round(statistics.median(samples), 3),
        "later_min_ms": round(min(samples), 3),
        "later_max_ms": round(max(samples), 3),
        "later_runs": len(samples),
    }


async def _operation_table(rounds: int, per_round: int) -> Figures:
    """A fresh interpreter: import the generated rows, then build the table from them (what the first
    ``WiseClient()`` does besides its transport; CPU time, once: a rebuild would hit ``re``'s cache),
    then the first lookup of each method (what a table builds on first use), then ``match_us`` per
    lookup. The collector runs before the build: a collection that the import's allocations have made
    due (~2 ms over the fresh rows) would otherwise land in the build's figure in some runs only."""
    started = time.perf_counter()
    from wise_api.operations import OPERATIONS

    imported = time.perf_counter()
    from wise_async._operations import OperationTable

    gc.collect()
    cpu = time.process_time()
    table = OperationTable(OPERATIONS)
    build = time.process_time() - cpu
    cpu = time.process_time()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):  # each method's first lookup (lazy tries)
        table.match(method, "/")
    first_lookups = time.process_time() - cpu
    paths = [("GET", "/v2/profiles"), ("POST", "/v3/profiles/12/transfers"), ("GET", "/v1/transfers/42")]
    paths += [("GET", "/v4/profiles/1/balance-statements/2/statement.json"), ("DELETE", "/nothing/here")]
    for method, path in paths:
        table.match(method, path)
    n = per_round * 20
    match_started = time.perf_counter()
    for _ in range(n):
        for method, path in paths:
            table.match(method, path)
    match_us = (time.perf_counter() - match_started) / (n * len(paths)) * 1e6
    return {
        "operations": len(table),
        "rows_import_ms": round((imported - started) * 1000, 2),
        "build_ms": round(build * 1000, 3),
        "first_lookup_per_method_ms": round(first_lookups * 1000, 3),
        "match_us": round(match_us, 3),
    }


# --- paging over a loopback socket ---------------------------------------------------------------

RECIPIENTS = 10_000
PAGE_SIZE = 20
CHUNK_PAGES = 10  # raw and SDK paging take turns every 10 pages: a CPU speed change hits both
SDK_QUERY = {"active": "true", "size": PAGE_SIZE}  # what recipientList sends: the spec's default active=true


def recipient_pages(n: int) -> dict[str, bytes]:
    """FakeWise's ``recipientList`` pages over ``n`` seeded recipients, keyed by their seekPosition."""
    from wise_async.testing import FakeWise

    async def fetch() -> dict[str, bytes]:
        fake = FakeWise()
        token = fake.add_personal_token()
        fake.seed_recipients(n)
        pages: dict[str, bytes] = {}
        seek: Any = ""
        async with httpx.AsyncClient(transport=fake.transport(), base_url=BASE_URL) as client:
            while True:
                params: dict[str, Any] = {"size": PAGE_SIZE}
                if seek != "":
                    params["seekPosition"] = seek
                response = await client.get(
                    "/v2/accounts", params=params, headers={"Authorization": f"Bearer {token}"}
                )
                response.raise_for_status()
                pages[str(seek)] = response.content
                fake.clear_requests()
                seek = json.loads(response.content).get("seekPositionForNext")
                if seek is None:
                    return pages

    return asyncio.run(fetch())


async def _serve(pages: dict[str, bytes], ready: Callable[[int], None]) -> None:
    """HTTP/1.1 keep-alive, GET only: the page for the request's seekPosition (the first without one)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                seek = ""
                if "seekPosition=" in target:
                    seek = target.split("seekPosition=", 1)[1].split("&", 1)[0]
                body = pages.get(seek, b'{"content":[]}')
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    ready(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def _server_main() -> None:
    pages = recipient_pages(RECIPIENTS)

    def ready(port: int) -> None:
        print(port, flush=True)

    asyncio.run(_serve(pages, ready))


async def _paging(rounds: int, per_round: int) -> Figures:
    from wise_api.api.recipient import recipient_list

    from wise_async import WiseClient

    server = subprocess.Popen(
        [sys.executable, "-m", "bench.calls", "--serve"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        async with (
            httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}) as plain,
            WiseClient(personal_token=TOKEN, base_url=base, allow_insecure_http=True) as wise,
        ):

            def raw_page(response: httpx.Response) -> tuple[list[Any], Any]:
                if response.status_code != 200:
                    raise RuntimeError(response.status_code)
                page = json.loads(response.content)
                return page["content"], page.get("seekPositionForNext")

            def typed_page(response: httpx.Response) -> tuple[list[Any], Any]:
                """The SDK's typed models by the generated parser, nothing else of the SDK: what the
                models alone cost, the floor of any typed paging."""
                page = recipient_list._parse_response(client=wise.low_level_client, response=response)
                return page.content or [], page.seek_position_for_next

            async def hand_written(
                read: Callable[[httpx.Response], tuple[list[Any], Any]],
            ) -> AsyncIterator[Any]:
                params: dict[str, Any] = dict(SDK_QUERY)
                while True:
                    items, seek = read(await plain.get("/v2/accounts", params=params))
                    for item in items:
                        yield item
                    if not items or seek is None:
                        return
                    params["seekPosition"] = seek

            async def take_chunk(items: AsyncIterator[Any]) -> int:
                count = 0
                for _ in range(CHUNK_PAGES * PAGE_SIZE):
                    if await anext(items, None) is None:
                        break
                    count += 1
                return count

            raw_times: list[tuple[float, float]] = []
            sdk_times: list[tuple[float, float]] = []
            typed_times: list[tuple[float, float]] = []
            for index in range(rounds + 1):  # round 0 warms up (imports, pool) and checks the counts
                sides = [
                    (hand_written(raw_page), [0.0, 0.0], [0]),
                    (aiter(wise.iter_recipients(size=PAGE_SIZE)), [0.0, 0.0], [0]),
                    (hand_written(typed_page), [0.0, 0.0], [0]),
                ]
                gc.collect()
                while any(count[0] < RECIPIENTS for *_, count in sides):
                    for source, spent, count in sides[:: -1 if index % 2 else 1]:
                        cpu, wall = time.process_time(), time.perf_counter()
                        count[0] += await take_chunk(source)
                        spent[0] += time.process_time() - cpu
                        spent[1] += time.perf_counter() - wall
                if [count[0] for *_, count in sides] != [RECIPIENTS] * 3:
                    raise RuntimeError(f"paged {[c[0] for *_, c in sides]}, expected {RECIPIENTS} each")
                if index:
                    raw_times.append((sides[0][1][0], sides[0][1][1]))
                    sdk_times.append((sides[1][1][0], sides[1][1][1]))
                    typed_times.append((sides[2][1][0], sides[2][1][1]))
            components = await _paging_components(plain, wise, rounds)
    finally:
        server.terminate()
        server.wait(timeout=10)
    figures = ratio_figures(raw_times, sdk_times, unit="ms", scale=1e3)
    figures.update(recipients=RECIPIENTS, page_size=PAGE_SIZE, pages=RECIPIENTS // PAGE_SIZE + 1)
    figures["components_cpu_us_per_page"] = components
    typed = ratio_figures(raw_times, typed_times, unit="ms", scale=1e3)
    figures["typed_models_floor"] = {
        "description": "the hand-written httpx loop building the same typed models with the generated "
        "parser, nothing else of the SDK, ÷ the raw loop (same rounds): the ratio of paging that "
        "returns these models through a stock httpx client; sdk_over_typed is the SDK ÷ this side "
        "(below 1: the SDK's client saves more per page than its layers add)",
        "ratio": typed["ratio"],
        "ratio_min": typed["ratio_min"],
        "ratio_max": typed["ratio_max"],
        "sdk_over_typed": round(
            statistics.median(s[0] / t[0] for s, t in zip(sdk_times, typed_times, strict=True)), 3
        ),
    }
    return figures


async def _paging_components(plain: httpx.AsyncClient, wise: Any, rounds: int) -> Figures:
    """Where a page's time goes (CPU µs per page over the first 100 pages, interleaved rounds): the raw
    GET, + ``json.loads``; the same GET through the SDK's httpx stack (``wise.http_client``), + the
    generated parser (20 typed recipients); the facade call (``wise.recipients.list``: per-call options
    and the whole-call budget too). ``floor_ratio`` is (stack + parser) ÷ raw with ``json.loads``: the
    paging ratio if the facade, the budget and the iterator cost nothing."""
    from wise_api.api.recipient import recipient_list
    from wise_api.types import UNSET

    seeks: list[Any] = []
    params: dict[str, Any] = dict(SDK_QUERY)
    while len(seeks) < 100:
        page = json.loads((await plain.get("/v2/accounts", params=params)).content)
        seeks.append(params.get("seekPosition"))
        if page.get("seekPositionForNext") is None:
            break
        params["seekPosition"] = page["seekPositionForNext"]
    queries = [SDK_QUERY if s is None else {**SDK_QUERY, "seekPosition": s} for s in seeks]
    stacked, low_level = wise.http_client, wise.low_level_client

    async def raw_get(chunk: list[dict[str, Any]]) -> None:
        for query in chunk:
            await plain.get("/v2/accounts", params=query)

    async def raw_get_json(chunk: list[dict[str, Any]]) -> None:
        for query in chunk:
            json.loads((await plain.get("/v2/accounts", params=query)).content)

    async def stack_get(chunk: list[dict[str, Any]]) -> None:
        for query in chunk:
            await stacked.get("/v2/accounts", params=query)

    async def stack_parse(chunk: list[dict[str, Any]]) -> None:
        for query in chunk:
            response = await stacked.get("/v2/accounts", params=query)
            recipient_list._parse_response(client=low_level, response=response)

    async def facade(chunk: list[dict[str, Any]]) -> None:
        for query in chunk:
            await wise.recipients.list(size=PAGE_SIZE, seek_position=query.get("seekPosition", UNSET))

    parts = {
        "raw_get": raw_get,
        "raw_get_json": raw_get_json,
        "stack_get": stack_get,
        "stack_parse": stack_parse,
        "facade": facade,
    }
    chunks = [queries[i : i + CHUNK_PAGES] for i in range(0, len(queries), CHUNK_PAGES)]
    samples: dict[str, list[float]] = {name: [] for name in parts}
    for index in range(rounds):
        spent = dict.fromkeys(parts, 0.0)
        gc.collect()
        for chunk in chunks:  # the parts take turns every 10 pages
            for name, part in list(parts.items())[:: -1 if index % 2 else 1]:
                cpu = time.process_time()
                await part(chunk)
                spent[name] += time.process_time() - cpu
        for name, seconds in spent.items():
            samples[name].append(seconds / len(queries))
    medians = {name: round(statistics.median(values) * 1e6, 1) for name, values in samples.items()}
    medians["floor_ratio"] = round(medians["stack_parse"] / medians["raw_get_json"], 3)
    return medians


MEASURES: dict[str, Callable[[int, int], Awaitable[Figures]]] = {
    "facade": _facade,
    "stack": _stack,
    "parse": _parse,
    "construction": _construction,
    "operation_table": _operation_table,
    "paging": _paging,
    "facade_otel_noop": _facade_otel_noop,
    "stack_otel_noop": _stack_otel_noop,
}


def figures_of_child(module: str, *args: str) -> Figures:
    """``python -m module args`` in a fresh interpreter (so imports, caches and earlier runs do not leak
    into it); its figures are the JSON object on the last line it prints."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{done.stderr.strip()[-3000:]}")
    figures: Figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def measure(name: str, *, rounds: int = 9, per_round: int = 200) -> Figures:
    """One measure in a fresh interpreter."""
    return figures_of_child("bench.calls", name, "--rounds", str(rounds), "--per-round", str(per_round))


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", nargs="?", choices=sorted(MEASURES))
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--serve", action="store_true", help="(internal) the paging benchmark's server")
    args = parser.parse_args(argv)
    if args.serve:
        _server_main()
        return 0
    if args.name is None:
        parser.error("name a measure")
    print(json.dumps(asyncio.run(MEASURES[args.name](args.rounds, args.per_round))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
