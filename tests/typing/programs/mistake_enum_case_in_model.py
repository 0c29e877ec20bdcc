"""An enum value in the wrong case in a request model (Wise's values are upper case)."""

from wise_api.models import BalanceCreateBody

from wise_async import WiseClient

# at run time: refused before sending, the field named by its path
REFUSAL = "BalanceCreateBody.type: expected one of 'STANDARD', 'SAVINGS', got 'savings'"


async def main(wise: WiseClient, profile_id: int) -> None:
    body = BalanceCreateBody(currency="EUR", type_="savings")  # mistake
    await wise.balances.create(profile_id, body=body)
