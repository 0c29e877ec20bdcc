"""An int where Wise wants a currency code string."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.quotes.create(1, body={"sourceCurrency": 826, "targetCurrency": "EUR"})  # mistake
