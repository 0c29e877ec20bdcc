"""A typo in an enum field of a request model."""

from uuid import UUID

from wise_api.models import CardStatusUpdateBody

from wise_async import WiseClient

# at run time: refused before sending, the field named by its path
REFUSAL = "CardStatusUpdateBody.status: expected one of 'ACTIVE', 'FROZEN', 'BLOCKED', got 'FROZE'"


async def main(wise: WiseClient, card: UUID) -> None:
    await wise.cards.status_update(1, card, body=CardStatusUpdateBody(status="FROZE"))  # mistake
