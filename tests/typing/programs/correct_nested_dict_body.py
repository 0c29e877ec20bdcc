"""Nested objects in a dict body, built up in a typed variable first."""

from decimal import Decimal

from wise_api.request_dicts import BalanceMovementBodyDict

from wise_async import WiseClient


async def main(wise: WiseClient, profile_id: int) -> None:
    body: BalanceMovementBodyDict = {"sourceBalanceId": 1, "targetBalanceId": 2}
    body["amount"] = {"value": Decimal("9.99"), "currency": "GBP"}
    await wise.balances.movement(profile_id, body=body)
