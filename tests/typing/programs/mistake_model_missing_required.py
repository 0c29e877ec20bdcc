"""A request model without a required field."""

from wise_api.models import QuoteCreateBody

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    body = QuoteCreateBody(source_currency="GBP")  # mistake
    await wise.quotes.create(1, body=body)
