"""README: Paged lists."""

from wise_api.models import ActivityStatus

from wise_async import WiseClient


def save(items: object) -> None: ...


def checkpoint(params: object) -> None: ...


async def main(profile_id: int) -> None:
    async with WiseClient(personal_token="...") as wise:
        async for recipient in wise.iter_recipients(currency="EUR"):  # items, lazily
            print(recipient.id, recipient.name.full_name if recipient.name else None)

        async for page in wise.iter_transfers(profile=profile_id).iter_pages():  # or page by page
            save(page.items)
            checkpoint(page.next_params)  # None on the last page

        first = await wise.iter_cards(profile_id)  # awaiting gives the first Page (one request)
        print(first.response.total_count)  # the parsed response: totalCount, sort ...

        recent = wise.iter_activities(profile_id, status=ActivityStatus.COMPLETED, max_items=50)
        some = wise.iter_disputes(profile_id, max_pages=2)
        anything = wise.paginate("disputeList", profile_id, page_size=10)  # by operationId
        print(recent, some, anything)
