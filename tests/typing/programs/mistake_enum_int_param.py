"""An int for an enum-valued parameter."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.activities.list(1, status=3)  # mistake
