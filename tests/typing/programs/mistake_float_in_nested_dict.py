"""A float amount nested in a dict body (balanceMovement's amount.value)."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.balances.movement(
        1,
        body={"sourceBalanceId": 1, "targetBalanceId": 2, "amount": {"value": 9.99}},  # mistake
    )
