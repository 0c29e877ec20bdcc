"""A snake_case key (the Python attribute's name) in a dict body, where Wise wants camelCase."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.quotes.create(1, body={"source_currency": "GBP", "targetCurrency": "EUR"})  # mistake
