"""A recipient's profile given as a string in a dict body."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.recipients.create(
        body={"currency": "EUR", "profile": "abc", "accountHolderName": "Ada"}  # mistake
    )
