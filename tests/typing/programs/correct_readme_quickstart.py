"""README: Quickstart."""

import uuid
from decimal import Decimal

from wise_api.models import (
    QuoteCreateBody,
    RecipientCreateRequest,
    RecipientCreateRequestDetails,
    TransferCreateBody,
)

from wise_async import WiseClient


async def main() -> None:
    async with WiseClient(personal_token="...", environment="sandbox") as wise:
        profiles = await wise.profiles.list()
        profile_id = profiles[0].id
        quote = await wise.quotes.create(
            profile_id,
            body=QuoteCreateBody(source_currency="GBP", target_currency="EUR", source_amount=Decimal("100")),
        )
        recipient = await wise.recipients.create(
            body=RecipientCreateRequest(
                currency="EUR",
                type_="iban",
                profile=profile_id,
                account_holder_name="Grace Hopper",
                details=RecipientCreateRequestDetails.from_dict(
                    {"legalType": "PRIVATE", "iban": "DE89370400440532013000"}
                ),
            )
        )
        transfer = await wise.transfers.create(
            body=TransferCreateBody(
                target_account=recipient.id, quote_uuid=quote.id, customer_transaction_id=uuid.uuid4()
            )
        )
        print(transfer.id, transfer.status)
