"""A misspelt namespace of the client."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.quote.create(1, body={"sourceCurrency": "GBP", "targetCurrency": "EUR"})  # mistake
