"""A path parameter left out (the quote id)."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.quotes.get(1)  # mistake
