"""A payout key given as a number (an invoice id) instead of the text Wise's key is derived from."""

from decimal import Decimal

from wise_async import WiseClient

REFUSAL = "key"


async def main(wise: WiseClient, profile_id: int, recipient_id: int) -> None:
    await wise.payouts.send(
        profile_id,
        recipient=recipient_id,
        source_currency="GBP",
        target_currency="EUR",
        source_amount=Decimal("100"),
        key=7,  # mistake
    )
