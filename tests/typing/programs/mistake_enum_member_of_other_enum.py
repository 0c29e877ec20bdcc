"""A member of another enum in a request model's enum field (an activity's status for a card's)."""

from uuid import UUID

from wise_api.models import ActivityStatus, CardStatusUpdateBody

from wise_async import WiseClient

# at run time: refused before sending, the field named by its path
REFUSAL = "CardStatusUpdateBody.status: expected one of 'ACTIVE', 'FROZEN', 'BLOCKED', got <ActivityStatus"


async def main(wise: WiseClient, card: UUID) -> None:
    body = CardStatusUpdateBody(status=ActivityStatus.COMPLETED)  # mistake
    await wise.cards.status_update(1, card, body=body)
