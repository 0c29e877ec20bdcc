"""Ids pass from one call into the next as they are (a quote id as UUID or str)."""

from wise_async import WiseClient


async def main(wise: WiseClient, profile_id: int, recipient_id: int) -> None:
    quote = await wise.quotes.create(
        profile_id, body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": 1}
    )
    await wise.transfers.create(body={"targetAccount": recipient_id, "quoteUuid": quote.id})
    await wise.transfers.create(body={"targetAccount": recipient_id, "quoteUuid": str(quote.id)})
