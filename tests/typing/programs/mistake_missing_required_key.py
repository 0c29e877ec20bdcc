"""A dict body without a required key (targetCurrency)."""

from decimal import Decimal

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.quotes.create(1, body={"sourceCurrency": "GBP", "sourceAmount": Decimal("10")})  # mistake
