"""A str where Wise wants an int (targetAccount, a recipient id)."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.transfers.create(
        body={"targetAccount": "12345", "quoteUuid": "11144c35-9fe8-4c32-b7fd-d05c2a7734bf"}  # mistake
    )
