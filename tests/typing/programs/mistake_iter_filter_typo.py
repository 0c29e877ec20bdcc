"""A misspelled iterator filter."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    async for _ in wise.iter_transfers(profle=1):  # mistake
        break
