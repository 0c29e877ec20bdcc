"""A str where a request model wants an int (the recipient id)."""

from wise_api.models import QuoteCreateBody

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    body = QuoteCreateBody(source_currency="GBP", target_currency="EUR", target_account="12345")  # mistake
    await wise.quotes.create(1, body=body)
