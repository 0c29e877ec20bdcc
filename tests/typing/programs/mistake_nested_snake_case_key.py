"""A snake_case key in a nested object of a dict body (paymentMetadata.transfer_nature)."""

from wise_api.request_dicts import QuoteCreateBodyDict

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    body: QuoteCreateBodyDict = {
        "sourceCurrency": "GBP",
        "targetCurrency": "EUR",
        "paymentMetadata": {"transfer_nature": "MOVING_MONEY_BETWEEN_OWN_ACCOUNTS"},  # mistake
    }
    await wise.quotes.create(1, body=body)
