"""A misspelled key in a nested object of a dict body (details.referense)."""

from uuid import UUID

from wise_async import WiseClient


async def main(wise: WiseClient, quote: UUID) -> None:
    await wise.transfers.create(
        body={"targetAccount": 1, "quoteUuid": quote, "details": {"referense": "inv 42"}}  # mistake
    )
