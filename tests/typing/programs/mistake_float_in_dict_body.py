"""A float amount in a dict body: 0.1 + 0.2 would reach Wise as 0.30000000000000004."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    amount = 0.1 + 0.2
    await wise.quotes.create(
        1,
        body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": amount},  # mistake
    )
