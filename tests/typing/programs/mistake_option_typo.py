"""A misspelled per-call option (timeout)."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.profiles.list(timout=5)  # mistake
