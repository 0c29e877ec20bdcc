"""A typo in an enum field of a nested request model (a recipient's legal type)."""

from wise_api.models import RecipientCreateRequest, RecipientCreateRequestDetails

from wise_async import WiseClient

# at run time: refused before sending, the field named by its path
REFUSAL = "RecipientCreateRequest.details.legalType: expected one of 'PRIVATE', 'BUSINESS', got 'PRIVAT'"


async def main(wise: WiseClient, profile_id: int) -> None:
    details = RecipientCreateRequestDetails(legal_type="PRIVAT", sort_code="040075")  # mistake
    body = RecipientCreateRequest(currency="GBP", type_="sort_code", profile=profile_id, details=details)
    await wise.recipients.create(body=body)
