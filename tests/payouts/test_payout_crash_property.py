"""Property: whatever sequence of crashes, lost answers, cut connections, lost stores and expired quotes
hits a payout's calls, calling again with the same key ends in one transfer, one funding, one debit.

In-process (FakeWise's transport, faults injected by the fake) so that hundreds of histories run in
seconds; the loopback tests cover each crash point over real sockets.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import anyio
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wise_async import WiseError
from wise_async.payouts import MemoryPayoutStore, Payouts, PayoutStep

from .conftest import AMOUNT, open_bank, report_figure

EXAMPLES = int(os.environ.get("WISE_PROPERTY_EXAMPLES", "500"))  # other Pythons run a sample
STEPS: list[PayoutStep] = ["quoted", "transfer_requested", "transfer_created", "funding_sent", "funded"]
OPERATIONS = ["quoteCreate", "transferCreate", "transferFund", "transferGet", "transferList"]


class Crash(Exception):
    pass


crash = st.one_of(
    st.tuples(st.just("kill"), st.sampled_from(STEPS)),
    st.tuples(
        st.sampled_from(["reset_before_commit", "reset_after_commit", "server_error", "refused"]),
        st.sampled_from(OPERATIONS),
        st.integers(0, 1),  # skip: transferFund's first attempt is the SCA challenge
    ),
)
history = st.lists(
    # (what goes wrong in one call — up to two things —, then lose the store, then let 31 min pass)
    st.tuples(st.lists(crash, min_size=1, max_size=2), st.booleans(), st.booleans()),
    min_size=1,
    max_size=4,
)
RUNS = {"histories": 0, "calls": 0}


def run_history(key: rsa.RSAPrivateKey, plan: list[tuple[Any, bool, bool]]) -> None:
    bank = open_bank(key)

    async def main() -> None:
        async with bank.client(key) as wise:
            payouts = Payouts(wise)
            for events, lose_store, expire in plan:
                kills = {event[1] for event in events if event[0] == "kill"}

                def hook(step: PayoutStep, kills: set[str] = kills) -> None:
                    if step in kills:
                        raise Crash(step)

                for kind, operation, skip in (event for event in events if event[0] != "kill"):
                    if kind == "refused":  # Wise says no (4xx) without acting: e.g. an expired quote
                        bank.fake.faults.add("status", status=422, operation=operation, skip=skip)
                    else:
                        bank.fake.faults.add(kind, operation=operation, skip=skip, times=1)
                with contextlib.suppress(Crash, WiseError):  # told, or crashed: either way, call again
                    await payouts.send(bank.profile_id, **bank.payout(), on_step=hook)
                RUNS["calls"] += 1
                bank.fake.faults.clear()
                if lose_store:
                    payouts = Payouts(wise, store=MemoryPayoutStore())
                if expire:
                    bank.fake.clock.advance(31 * 60)
            result = await payouts.send(bank.profile_id, **bank.payout())
            RUNS["calls"] += 1
            assert result.transfer.status == "processing"

    anyio.run(main)
    creates = bank.fake.calls("transferCreate")
    accepted = [r.json() for r in creates if r.status == 200]
    assert all(body == accepted[0] for body in accepted)  # Wise only ever accepted one transfer request
    by_id: dict[str, list[Any]] = {}
    for request in creates:
        by_id.setdefault(request.json()["customerTransactionId"], []).append(request.json())
    if not any(lose_store for _, lose_store, _ in plan):  # never another body under the same id
        assert all(all(body == bodies[0] for body in bodies) for bodies in by_id.values())
    assert all(r.status != 409 for r in creates)
    assert (len(bank.fake.transfers), bank.fundings(), bank.debited()) == (1, 1, AMOUNT)
    RUNS["histories"] += 1


def test_every_history_of_crashes_ends_in_one_transfer_and_one_funding(rsa_key: rsa.RSAPrivateKey) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(history)
    def check(plan: list[tuple[Any, bool, bool]]) -> None:
        run_history(rsa_key, plan)

    check()
    assert RUNS["histories"] >= EXAMPLES
    report_figure(
        f"payouts property: {RUNS['histories']} random crash histories ({RUNS['calls']} calls) "
        "→ 1 transfer, 1 funding each"
    )
