"""An IBAN recipient as a dict body: ``details`` keys depend on the currency (Wise leaves the object open)."""

from wise_async import WiseClient


async def main(wise: WiseClient, profile_id: int) -> None:
    await wise.recipients.create(
        body={
            "currency": "EUR",
            "type": "iban",
            "profile": profile_id,
            "accountHolderName": "Grace Hopper",
            "details": {"legalType": "PRIVATE", "iban": "DE89370400440532013000"},
        }
    )
