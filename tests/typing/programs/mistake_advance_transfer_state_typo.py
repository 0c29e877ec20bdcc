"""A misspelt state to drive a sandbox transfer to."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.sandbox.advance_transfer(1, to="funds_convert")  # mistake
