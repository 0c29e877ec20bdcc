"""An enum-valued key of a dict body, as a string and as a member."""

from uuid import UUID

from wise_api.models import CardStatusUpdateBodyStatus

from wise_async import WiseClient


async def main(wise: WiseClient, profile_id: int, card: UUID) -> None:
    await wise.cards.status_update(profile_id, card, body={"status": "FROZEN"})
    await wise.cards.status_update(profile_id, card, body={"status": CardStatusUpdateBodyStatus.ACTIVE})
