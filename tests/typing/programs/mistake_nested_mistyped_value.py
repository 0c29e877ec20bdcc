"""A value of the wrong type in a nested object (details.reference as an int)."""

from uuid import UUID

from wise_async import WiseClient


async def main(wise: WiseClient, quote: UUID) -> None:
    await wise.transfers.create(
        body={"targetAccount": 1, "quoteUuid": quote, "details": {"reference": 42}}  # mistake
    )
