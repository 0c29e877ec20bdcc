"""README: Types, what you pass and what you get (dict bodies, Decimal money)."""

from decimal import Decimal

from wise_async import WiseClient


async def main(wise: WiseClient, profile_id: int, recipient_id: int) -> None:
    quote = await wise.quotes.create(
        profile_id,
        body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": Decimal("100.10")},
    )
    if quote.rate is not None:  # Decimal('1.16'): money is never a float
        print(quote.id, quote.rate * quote.source_amount if quote.source_amount else None)
    transfer = await wise.transfers.create(
        body={"targetAccount": recipient_id, "quoteUuid": str(quote.id), "details": {"reference": "inv 42"}}
    )
    print(transfer.id)
