"""A str where a query parameter is an int (the profile filter)."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.transfers.list(profile="12345")  # mistake
