"""A float amount in a query parameter."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.comparisons.get(source_currency="GBP", target_currency="EUR", send_amount=1.5)  # mistake
