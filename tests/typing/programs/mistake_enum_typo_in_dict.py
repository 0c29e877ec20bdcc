"""A typo in an enum-valued key of a dict body (a card's status)."""

from uuid import UUID

from wise_async import WiseClient


async def main(wise: WiseClient, card: UUID) -> None:
    await wise.cards.status_update(1, card, body={"status": "FROZE"})  # mistake
