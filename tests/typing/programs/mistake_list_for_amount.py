"""A list where a dict body wants an amount."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.quotes.create(
        1,
        body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": [100]},  # mistake
    )
