"""Money from a response used without checking it is there: rate may be None."""

from decimal import Decimal

from wise_api.models import Quote


def converted(quote: Quote, amount: Decimal) -> Decimal:
    return amount * quote.rate  # mistake
