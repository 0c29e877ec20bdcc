"""A float computed elsewhere, passed as the amount of a dict body."""

from wise_async import WiseClient


def total(prices: list[float]) -> float:
    return sum(prices)


async def main(wise: WiseClient) -> None:
    amount = total([9.99, 0.01])
    await wise.quotes.create(
        1,
        body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "targetAmount": amount},  # mistake
    )
