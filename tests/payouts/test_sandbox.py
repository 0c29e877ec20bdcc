"""``wise.sandbox.advance_transfer``: the spec's simulated transitions, spaced, and never in production."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from loopback.servers import serve_in_thread

from wise_async import InvalidRequestError
from wise_async.sandbox import Sandbox, SandboxOnlyError

from .conftest import Bank, report_figure


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


async def test_a_funded_transfer_is_walked_to_outgoing_payment_sent_5_seconds_apart(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    with serve_in_thread(bank.fake.asgi_app) as url:
        async with bank.client(rsa_key, transport=None, base_url=url) as wise:
            transfer_id = (await wise.payouts.send(bank.profile_id, **bank.payout())).transfer.id
            sleeps = Sleeps()
            transfer = await Sandbox(wise, sleep=sleeps).advance_transfer(
                transfer_id, to="outgoing_payment_sent"
            )
    steps = [r.path.rsplit("/", 1)[1] for r in bank.fake.calls("simulationTransferStateChange")]
    assert steps == ["processing", "funds_converted", "outgoing_payment_sent"]
    assert sleeps.delays == [5.0, 5.0]
    assert transfer.status == "outgoing_payment_sent"
    assert bank.fake.transfers.get(transfer_id)["status"] == "outgoing_payment_sent"  # type: ignore[index]


async def test_it_goes_on_from_where_the_transfer_is(bank: Bank, rsa_key: rsa.RSAPrivateKey) -> None:
    async with bank.client(rsa_key) as wise:
        transfer_id = (await wise.payouts.send(bank.profile_id, **bank.payout())).transfer.id
        sandbox = Sandbox(wise, spacing=0)
        await sandbox.advance_transfer(transfer_id, to="funds_converted")
        await sandbox.advance_transfer(transfer_id, to="funds_refunded")
        bank.fake.clear_requests()
        again = await sandbox.advance_transfer(transfer_id, to="funds_refunded")
        with pytest.raises(InvalidRequestError, match="past"):
            await sandbox.advance_transfer(transfer_id, to="outgoing_payment_sent")
    assert again.status == "funds_refunded"
    assert bank.fake.calls("simulationTransferStateChange") == []


@pytest.mark.parametrize(
    "where",
    [
        {"environment": "production"},
        {"base_url": "https://api.wise.com"},
        {"base_url": "https://api.transferwise.com/"},
    ],
)
async def test_production_is_refused_before_anything_is_sent(
    bank: Bank, rsa_key: rsa.RSAPrivateKey, where: dict[str, str]
) -> None:
    async with bank.client(rsa_key, **where) as wise:
        with pytest.raises(SandboxOnlyError):
            await wise.sandbox.advance_transfer(50000001, to="outgoing_payment_sent")
    assert bank.fake.requests == []
    report_figure(
        f"sandbox driving on production ({next(iter(where.values()))}): {len(bank.fake.requests)} requests"
    )
