"""A float amount for a payout: money is never a float (0.1 + 0.2 would be sent as 0.30000000000000004)."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.payouts.send(
        1,
        recipient=2,
        source_currency="GBP",
        target_currency="EUR",
        source_amount=0.1 + 0.2,  # mistake
        key="invoice-7",
    )
