"""Peak memory of ``async for recipient in wise.iter_recipients()`` over 1,000 and 100,000 recipients.

Each size runs in a fresh interpreter (``python -m bench.memory --child N``): FakeWise is seeded with N
recipients and the client reads one page before ``tracemalloc`` starts (imports, caches and the fake's
seeded records are not counted); then every recipient is iterated, 20 a page, and the peak of traced
memory above the starting point is the figure. The fake's request log is cleared after each request
(it is the fake's, not the client's).

Reading the figures: ``retained_kib`` (after a final ``gc.collect()``) is what iteration kept — nothing
per item. ``peak_kib`` is below 1 MiB for 100 or 100,000 pages' worth of items; it creeps up a little
with the length of the run because each httpx response sits in a reference cycle (httpx's own
response ↔ stream) until Python's cyclic collector frees a batch of them, and longer runs see larger
batches — with a collection every 500 pages the 100k peak equals the 10k one. ``collect_1k`` (the same
1,000 recipients gathered into a list) shows what holding the items costs: ~2.3 KiB each, so 100,000
would need ~230 MiB.

``run()`` returns the figures (``bench.run`` records them in ``bench/results.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1_000, 100_000)
Figures = dict[str, Any]


class _ForgetfulTransport(httpx.AsyncBaseTransport):
    """FakeWise's transport, clearing the fake's request log after each request."""

    def __init__(self, fake: Any) -> None:
        self._fake = fake
        self._inner = fake.transport()
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        self._fake.clear_requests()
        self.requests += 1
        return response


async def _measure(n: int, *, collect: bool) -> Figures:
    from wise_async import WiseClient
    from wise_async.testing import FakeWise

    fake = FakeWise()
    token = fake.add_personal_token()
    fake.seed_recipients(n)
    transport = _ForgetfulTransport(fake)
    async with WiseClient(personal_token=token, transport=transport) as wise:
        await wise.iter_recipients()  # warm-up: lazy imports, the fake's id-order cache, pools
        transport.requests = 0
        gc.collect()
        gc.freeze()  # the seeded records are fixture, not garbage: keep them out of the collector's way
        tracemalloc.start()
        baseline, _ = tracemalloc.get_traced_memory()
        started = time.perf_counter()
        count = 0
        if collect:
            count = len([recipient async for recipient in wise.iter_recipients()])
        else:
            async for _recipient in wise.iter_recipients():
                count += 1
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        gc.collect()
        retained, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    if count != n:
        raise RuntimeError(f"iterated {count} recipients, seeded {n}")
    return {
        "items": count,
        "pages": transport.requests,
        "peak_kib": round((peak - baseline) / 1024, 1),
        "retained_kib": round((retained - baseline) / 1024, 1),
        "seconds_traced": round(seconds, 2),
    }


def _child(n: int, collect: bool) -> Figures:
    done = subprocess.run(
        [sys.executable, "-m", "bench.memory", "--child", str(n), *(["--collect"] if collect else [])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory benchmark for {n} items failed:\n{done.stderr.strip()[-2000:]}")
    figures: Figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run(sizes: tuple[int, ...] = SIZES) -> Figures:
    """Peak traced memory iterating each size (own interpreter each), plus the 1k collect-all contrast."""
    figures: Figures = {"page_size": 20}
    for n in sizes:
        figures[f"iterate_{n // 1000}k"] = _child(n, collect=False)
    figures["collect_1k"] = _child(1_000, collect=True)
    small, large = figures[f"iterate_{sizes[0] // 1000}k"], figures[f"iterate_{sizes[-1] // 1000}k"]
    figures[f"peak_kib_{sizes[0] // 1000}k"] = small["peak_kib"]
    figures[f"peak_kib_{sizes[-1] // 1000}k"] = large["peak_kib"]
    figures["peak_ratio"] = round(large["peak_kib"] / small["peak_kib"], 2)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", type=int, help="measure this many items in this interpreter")
    parser.add_argument("--collect", action="store_true", help="gather the items into a list")
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(asyncio.run(_measure(args.child, collect=args.collect))))
    else:
        print(json.dumps(run(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
