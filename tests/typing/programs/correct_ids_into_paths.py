"""Ids from one answer passed into the next call's path, as they are."""

from wise_async import WiseClient


async def main(wise: WiseClient, profile_id: int) -> None:
    quote = await wise.quotes.create(
        profile_id, body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": 10}
    )
    again = await wise.quotes.get(profile_id, quote.id)
    transfer = await wise.transfers.create(body={"targetAccount": 1, "quoteUuid": again.id})
    await wise.transfers.get(transfer.id)
