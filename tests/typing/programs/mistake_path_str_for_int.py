"""A str where a path parameter is an int (the profile id)."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.balances.list("one", types="STANDARD")  # mistake
