"""A payout, waiting for it, and driving it in the sandbox, as the README's payouts section writes them."""

from decimal import Decimal

from wise_async import WiseClient


async def main(wise: WiseClient, profile_id: int, recipient_id: int) -> None:
    result = await wise.payouts.send(
        profile_id,
        recipient=recipient_id,
        source_currency="GBP",
        target_currency="EUR",
        source_amount=Decimal("100"),
        reference="Invoice 7",
        key="invoice-7",
    )
    await wise.sandbox.advance_transfer(result.transfer.id, to="outgoing_payment_sent", spacing=0)
    state = await wise.transfer_states.wait_for_transfer(
        result.transfer.id, until=("outgoing_payment_sent", "funds_converted"), timeout=60
    )
    print(state.state)
