"""Enum arguments take their members or their strings."""

from wise_api.models import ActivityStatus

from wise_async import WiseClient


async def main(wise: WiseClient, profile_id: int) -> None:
    await wise.activities.list(profile_id, status="COMPLETED")
    await wise.activities.list(profile_id, status=ActivityStatus.IN_PROGRESS)
