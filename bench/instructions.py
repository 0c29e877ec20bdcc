"""Instructions per page of recipient paging, counted by callgrind: the paging profile without timing noise.

CPU-time ratios on a small VM move by ±0.1 between runs (its CPU speed changes under load); instruction
counts do not move at all. Each part pages over the same loopback server as ``bench.calls paging`` and
is counted twice under ``valgrind --tool=callgrind`` (0 pages, then ``--pages`` pages, after the same
warm-up, with the warmed-up heap frozen out of the garbage collector's full collections, which would
fall into some counts and not others), so the difference is the per-page work alone:

* ``raw_get``: ``httpx.AsyncClient.get``; ``raw``: + ``json.loads``; ``raw_items``: the paging
  benchmark's hand-written side, an async generator over those pages handing out each recipient (20
  ``anext`` a page); every raw request sends the SDK's query (``active=true``, the spec's default);
* ``stack``: the same GET through ``wise.http_client`` (auth flow, JOSE check, retrying transport);
* ``stack_parse``: + the generated parser (20 typed recipients with their nested models);
* ``send_parse``: through ``WiseClient._send_operation`` (per-call options, the whole-call budget);
* ``facade``: ``wise.recipients.list(...)``, what ``iter_recipients`` calls per page;
* ``iterate``: 20 ``anext`` a page on ``wise.iter_recipients``: the paging benchmark's SDK side;
* ``typed_items``: ``raw_items`` building the same typed models with the generated parser (the paging
  benchmark's ``typed_models_floor`` side).

``iterate`` ÷ ``raw_items`` is the paging benchmark's ratio in instructions; ``typed_items`` ÷
``raw_items`` what the typed models alone cost, and ``iterate`` ÷ ``typed_items`` what the SDK adds.

Needs valgrind; not part of ``make bench`` (it takes minutes). Run: ``python -m bench.instructions``
(writes ``bench/instructions.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bench.calls import PAGE_SIZE, SDK_QUERY

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "instructions.json"
PARTS = (
    "raw_get",
    "raw",
    "raw_items",
    "typed_items",
    "stack",
    "stack_parse",
    "send_parse",
    "facade",
    "iterate",
)
MAX_PAGES = 100


async def _page(part: str, pages: int, port: int) -> None:
    import httpx
    from wise_api.api.recipient import recipient_list
    from wise_api.types import UNSET

    from wise_async import WiseClient

    base = f"http://127.0.0.1:{port}"

    def query(seek: Any) -> dict[str, Any]:
        return SDK_QUERY if seek is None else {**SDK_QUERY, "seekPosition": seek}

    async with (
        httpx.AsyncClient(base_url=base, headers={"Authorization": "Bearer bench"}) as plain,
        WiseClient(personal_token="bench", base_url=base, allow_insecure_http=True) as wise,
    ):
        seeks: list[Any] = [None]
        while len(seeks) < MAX_PAGES:  # the same for every count, so the difference leaves it out
            page = json.loads((await plain.get("/v2/accounts", params=query(seeks[-1]))).content)
            seeks.append(page["seekPositionForNext"])
        stacked, low_level = wise.http_client, wise.low_level_client
        # the same warm-up for every part: each path once, so imports and caches are outside the count
        recipient_list._parse_response(client=low_level, response=await stacked.get("/v2/accounts"))
        await wise.recipients.list(size=PAGE_SIZE)

        def raw_page(response: httpx.Response) -> Any:
            return json.loads(response.content)["content"]

        def typed_page(response: httpx.Response) -> Any:
            return recipient_list._parse_response(client=low_level, response=response).content

        async def hand_written(read: Callable[[httpx.Response], Any]) -> AsyncIterator[Any]:
            for seek in seeks:
                for item in read(await plain.get("/v2/accounts", params=query(seek))):
                    yield item

        items = {
            "raw_items": hand_written(raw_page),
            "typed_items": hand_written(typed_page),
            "iterate": aiter(wise.iter_recipients(size=PAGE_SIZE)),
        }
        for source in items.values():
            for _ in range(PAGE_SIZE + 1):  # the first page and the start of the second: both paths warm
                await anext(source)
        # A full collection walks every object of the process (the imported modules too) and falls into
        # some counts and not others: moved out of the collector's reach, the counts are per-page work.
        gc.collect()
        gc.freeze()
        for seek in seeks[:pages]:
            if part in items:
                for _ in range(PAGE_SIZE):
                    await anext(items[part])
            elif part in ("raw_get", "raw"):
                response = await plain.get("/v2/accounts", params=query(seek))
                if part == "raw":
                    json.loads(response.content)
            elif part in ("stack", "stack_parse"):
                response = await stacked.get("/v2/accounts", params=query(seek))
                if part == "stack_parse":
                    recipient_list._parse_response(client=low_level, response=response)
            elif part == "send_parse":
                kwargs = recipient_list._get_kwargs(
                    size=PAGE_SIZE, seek_position=UNSET if seek is None else seek
                )
                response = await wise._send_operation(kwargs, operation_id="recipientList")
                recipient_list._parse_response(client=low_level, response=response)
            else:
                await wise.recipients.list(size=PAGE_SIZE, seek_position=UNSET if seek is None else seek)


def _count(part: str, pages: int, port: int) -> int:
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.instructions",
            "--child",
            part,
            str(pages),
            str(port),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{part} under callgrind failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def measure(pages: int) -> dict[str, Any]:
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.calls", "--serve"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        per_page = {part: (_count(part, pages, port) - _count(part, 0, port)) // pages for part in PARTS}
    finally:
        server.terminate()
        server.wait(timeout=10)
    raw = per_page["raw"]
    return {
        "pages": pages,
        "instructions_per_page": per_page,
        "ratio_to_raw": {part: round(count / raw, 3) for part, count in per_page.items()},
        "paging_ratio": round(per_page["iterate"] / per_page["raw_items"], 3),
        "typed_models_floor": round(per_page["typed_items"] / per_page["raw_items"], 3),
        "sdk_over_typed": round(per_page["iterate"] / per_page["typed_items"], 3),
        "parser_beyond_json_loads_share_of_raw": round(
            (per_page["stack_parse"] - per_page["stack"] - (raw - per_page["raw_get"])) / raw, 3
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=40, choices=range(1, MAX_PAGES + 1), metavar="N")
    parser.add_argument("--child", nargs=3, metavar=("PART", "PAGES", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        part, pages, port = args.child
        asyncio.run(_page(part, int(pages), int(port)))
        return 0
    if shutil.which("valgrind") is None:
        print("bench.instructions needs valgrind (apt install valgrind)", file=sys.stderr)
        return 2
    figures = measure(args.pages)
    RESULTS.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(json.dumps(figures, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
