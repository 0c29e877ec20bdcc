"""Iterators with typed filters."""

from wise_async import WiseClient


async def main(wise: WiseClient, profile_id: int) -> None:
    async for transfer in wise.iter_transfers(
        profile=profile_id, status="outgoing_payment_sent", max_items=50
    ):
        print(transfer.id)
    async for activity in wise.iter_activities(profile_id, status="COMPLETED"):
        print(activity)
