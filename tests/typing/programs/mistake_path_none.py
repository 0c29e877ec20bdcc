"""None as a path parameter: the URL would change."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.transfers.get(None)  # mistake
