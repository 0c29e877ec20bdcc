"""A float amount in a request model."""

from wise_api.models import QuoteCreateBody

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    body = QuoteCreateBody(source_currency="GBP", target_currency="EUR", source_amount=100.1)  # mistake
    await wise.quotes.create(1, body=body)
