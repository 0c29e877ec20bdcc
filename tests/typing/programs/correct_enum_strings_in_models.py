"""Enum fields of request models take their members or their values as strings, nested and in lists too;
read back, the field is the member."""

from uuid import UUID

from wise_api.models import (
    BalanceCreateBody,
    BalanceType,
    CardStatusUpdateBody,
    CardStatusUpdateBodyStatus,
    QuoteCreateBody,
    RecipientCreateRequest,
    RecipientCreateRequestDetails,
    VerificationUploadEvidencesV3BusinessProfile,
    VerificationUploadEvidencesV3BusinessProfileBusinessUseCaseItem,
)
from wise_api.types import Unset

from wise_async import WiseClient


async def main(wise: WiseClient, profile_id: int, card: UUID) -> None:
    await wise.cards.status_update(profile_id, card, body=CardStatusUpdateBody(status="FROZEN"))
    await wise.cards.status_update(
        profile_id, card, body=CardStatusUpdateBody(CardStatusUpdateBodyStatus.ACTIVE)
    )
    balance = BalanceCreateBody(currency="EUR", type_="SAVINGS", name="Rainy day")
    kind: BalanceType = balance.type_  # the member, not the string
    assert kind.value == "SAVINGS"
    await wise.balances.create(profile_id, body=balance)
    details = RecipientCreateRequestDetails(
        legal_type="PRIVATE", sort_code="040075", account_number="37778842"
    )
    if not isinstance(details.legal_type, Unset):
        assert details.legal_type.value == "PRIVATE"
    recipient = RecipientCreateRequest(
        currency="GBP", type_="sort_code", profile=profile_id, account_holder_name="Ann Lee", details=details
    )
    await wise.recipients.create(body=recipient)
    await wise.quotes.create(
        profile_id, body=QuoteCreateBody(source_currency="GBP", target_currency="EUR", pay_out="BALANCE")
    )


def business_use() -> VerificationUploadEvidencesV3BusinessProfile:
    rent = VerificationUploadEvidencesV3BusinessProfileBusinessUseCaseItem.PAYING_RENT_OR_UTILITIES
    return VerificationUploadEvidencesV3BusinessProfile(
        business_use_case=["PAYING_SUPPLIERS_CONTRACTORS_OR_EMPLOYEES", rent],
        main_source_of_funding="REVENUE",
    )
