"""A keyword the operation does not take (a misspelled filter)."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.activities.list(1, stauts="COMPLETED")  # mistake
