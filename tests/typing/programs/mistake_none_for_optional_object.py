"""None for an optional object the spec does not let be null: leave the key out instead."""

from uuid import UUID

from wise_async import WiseClient


async def main(wise: WiseClient, quote: UUID) -> None:
    await wise.transfers.create(body={"targetAccount": 1, "quoteUuid": quote, "details": None})  # mistake
