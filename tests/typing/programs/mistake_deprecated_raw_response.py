"""A deprecated operation through with_raw_response."""

from uuid import UUID

from wise_async import WiseClient

DEPRECATED = True


async def main(wise: WiseClient, review: UUID) -> None:
    await wise.kyc_reviews.with_raw_response.get_v1(1, review)  # mistake
