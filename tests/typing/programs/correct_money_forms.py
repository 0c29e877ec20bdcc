"""Money as Decimal, int or a decimal string; null where the spec allows it."""

from decimal import Decimal

from wise_api.models import QuoteCreateBody

from wise_async import WiseClient


async def main(wise: WiseClient, profile_id: int) -> None:
    await wise.quotes.create(
        profile_id, body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": 100}
    )
    await wise.quotes.create(
        profile_id,
        body={
            "sourceCurrency": "GBP",
            "targetCurrency": "EUR",
            "sourceAmount": "100.10",
            "targetAmount": None,
        },
    )
    body = QuoteCreateBody(source_currency="GBP", target_currency="EUR", target_amount=Decimal("5.5"))
    await wise.quotes.create(profile_id, body=body)
    await wise.comparisons.get(source_currency="GBP", target_currency="EUR", send_amount=Decimal("1000"))
