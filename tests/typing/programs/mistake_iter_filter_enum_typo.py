"""A typo in an iterator's enum filter."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    async for _ in wise.iter_activities(1, status="COMPLETD"):  # mistake
        break
