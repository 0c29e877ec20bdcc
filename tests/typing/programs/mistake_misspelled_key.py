"""A misspelled key in a dict body."""

from decimal import Decimal

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.quotes.create(
        1,
        body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmmount": Decimal(1)},  # mistake
    )
