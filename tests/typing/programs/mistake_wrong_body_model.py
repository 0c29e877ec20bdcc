"""The body model of another operation."""

from wise_api.models import QuoteUpdateBody

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.quotes.create(1, body=QuoteUpdateBody(target_account=1))  # mistake
