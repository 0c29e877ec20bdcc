"""None for an optional filter: leave it out instead (None is not "not sent")."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.transfers.list(profile=None)  # mistake
