"""A payout in a process of its own, for the tests that SIGKILL it between two steps.

    python tests/payouts/payout_worker.py '<json: base_url, token, profile_id, payout, redis_url, ...>'

The payout's state is in Redis (``RedisPayoutStore``), so what the process recorded before dying is
there for the next caller. ``kill_at`` names the step after which the process kills itself with
SIGKILL: no ``finally``, no lease release, no flush: what a crash or an OOM kill leaves behind.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from decimal import Decimal
from typing import Any

import anyio
from redis.asyncio import Redis

from wise_async import PrivateKeyScaSigner, WiseClient
from wise_async.payouts import Payouts, PayoutStep
from wise_async.redis import RedisPayoutStore

LEASE = 0.5  # seconds a killed worker's lease blocks the next caller


async def main(job: dict[str, Any]) -> None:
    def die_at(step: PayoutStep) -> None:
        if step == job["kill_at"]:
            os.kill(os.getpid(), signal.SIGKILL)

    payout = {**job["payout"], "source_amount": Decimal(job["payout"]["source_amount"])}
    redis = Redis.from_url(job["redis_url"])
    async with WiseClient(
        personal_token=job["token"],
        base_url=job["base_url"],
        sca_handler=PrivateKeyScaSigner(job["pem"].encode()),
    ) as wise:
        payouts = Payouts(wise, store=RedisPayoutStore(redis, lease=LEASE))
        result = await payouts.send(job["profile_id"], **payout, on_step=die_at)
    await redis.aclose()
    print(json.dumps({"transfer": result.transfer.id, "resumed": list(result.resumed)}))


if __name__ == "__main__":
    anyio.run(main, json.loads(sys.argv[1]))
