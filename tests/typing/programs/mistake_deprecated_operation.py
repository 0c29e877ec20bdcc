"""An operation the spec marks deprecated (balanceGetV1)."""

from wise_async import WiseClient

DEPRECATED = True


async def main(wise: WiseClient) -> None:
    await wise.balances.get_v1(profile_id=1)  # mistake
