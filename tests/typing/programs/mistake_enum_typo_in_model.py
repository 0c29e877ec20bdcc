"""A typo in an enum field of a request model."""

from uuid import UUID

from wise_api.models import CardStatusUpdateBody

from wise_async import WiseClient


async def main(wise: WiseClient, card: UUID) -> None:
    await wise.cards.status_update(1, card, body=CardStatusUpdateBody(status="FROZE"))  # mistake
