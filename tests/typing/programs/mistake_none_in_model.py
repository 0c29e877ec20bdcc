"""None for a model field the spec does not let be null (details=None)."""

from uuid import UUID

from wise_api.models import TransferCreateBody

from wise_async import WiseClient


async def main(wise: WiseClient, quote: UUID) -> None:
    body = TransferCreateBody(target_account=1, quote_uuid=quote, details=None)  # mistake
    await wise.transfers.create(body=body)
