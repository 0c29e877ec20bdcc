"""README: errors are typed; a refused body is an InvalidRequestError."""

from decimal import Decimal

from wise_async import InvalidRequestError, NotFoundError, WiseClient


async def main(wise: WiseClient, profile_id: int) -> None:
    try:
        await wise.quotes.create(
            profile_id, body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": Decimal(1)}
        )
    except InvalidRequestError as exc:
        print("refused before sending:", exc)
    except NotFoundError as exc:
        print(exc.status_code)
