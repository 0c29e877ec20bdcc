"""The ``WiseClient`` methods that start paginators (``wise.iter_recipients()`` ...): one line each over
:data:`wise_async.pagination.PAGING_STYLES`.

Kept apart from :mod:`wise_async.pagination` so that creating ``WiseClient`` does not load the paginator
machinery: it is imported when the first paginator is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime
    from uuid import UUID

    from wise_api.models.activity import Activity
    from wise_api.models.card import Card
    from wise_api.models.card_order import CardOrder
    from wise_api.models.card_transaction import CardTransaction
    from wise_api.models.dispute import Dispute
    from wise_api.models.kyc_review import KYCReview
    from wise_api.models.originator_transfer import OriginatorTransfer
    from wise_api.models.recipient_account import RecipientAccount
    from wise_api.models.standard_transfer import StandardTransfer

    from .pagination import AsyncPaginator


class PaginationMixin:
    """``WiseClient.paginate`` and one typed iterator per paged list (each a line over the table).

    Keyword arguments are the facade method's filters (``currency=``, ``status=``, ``since=`` ...);
    page size and cursor keywords may be given to start elsewhere than the first page.
    """

    def paginate(
        self,
        operation_id: str,
        *args: Any,
        max_items: int | None = None,
        max_pages: int | None = None,
        **params: Any,
    ) -> AsyncPaginator[Any]:
        """Iterate any paged operation by operationId: ``wise.paginate("disputeList", profile_id)``."""
        from .pagination import paginate

        return paginate(self, operation_id, *args, max_items=max_items, max_pages=max_pages, **params)

    def iter_recipients(
        self, *, max_items: int | None = None, max_pages: int | None = None, **filters: Any
    ) -> AsyncPaginator[RecipientAccount]:
        """Recipients (``recipientList``, seekPosition paging, up to 20 a page)."""
        return self.paginate("recipientList", max_items=max_items, max_pages=max_pages, **filters)

    def iter_activities(
        self, profile_id: int, *, max_items: int | None = None, max_pages: int | None = None, **filters: Any
    ) -> AsyncPaginator[Activity]:
        """A profile's activities (``activityList``, cursor paging)."""
        return self.paginate("activityList", profile_id, max_items=max_items, max_pages=max_pages, **filters)

    def iter_transfers(
        self, *, max_items: int | None = None, max_pages: int | None = None, **filters: Any
    ) -> AsyncPaginator[OriginatorTransfer | StandardTransfer]:
        """Transfers (``transferList``, offset/limit paging)."""
        return self.paginate("transferList", max_items=max_items, max_pages=max_pages, **filters)

    def iter_card_transactions(
        self,
        profile_id: int,
        card_token: UUID | str,
        *,
        from_creation_time: datetime.datetime,
        to_creation_time: datetime.datetime,
        max_items: int | None = None,
        max_pages: int | None = None,
        **filters: Any,
    ) -> AsyncPaginator[CardTransaction]:
        """A card's transactions in a creation-time window of at most 90 days (``cardTransactionList``).

        Wise answers a longer window with 422, raised as ``UnprocessableEntityError`` on the first page.
        """
        return self.paginate(
            "cardTransactionList",
            profile_id,
            card_token,
            from_creation_time=from_creation_time,
            to_creation_time=to_creation_time,
            max_items=max_items,
            max_pages=max_pages,
            **filters,
        )

    def iter_cards(
        self, profile_id: int, *, max_items: int | None = None, max_pages: int | None = None, **filters: Any
    ) -> AsyncPaginator[Card]:
        """A profile's cards (``cardList``, pageNumber paging with totalCount)."""
        return self.paginate("cardList", profile_id, max_items=max_items, max_pages=max_pages, **filters)

    def iter_card_orders(
        self, profile_id: int, *, max_items: int | None = None, max_pages: int | None = None, **filters: Any
    ) -> AsyncPaginator[CardOrder]:
        """A profile's card orders (``cardOrderList``, pageNumber paging with totalCount)."""
        return self.paginate("cardOrderList", profile_id, max_items=max_items, max_pages=max_pages, **filters)

    def iter_disputes(
        self, profile_id: int, *, max_items: int | None = None, max_pages: int | None = None, **filters: Any
    ) -> AsyncPaginator[Dispute]:
        """A profile's card disputes (``disputeList``, pageNumber paging with totalCount)."""
        return self.paginate("disputeList", profile_id, max_items=max_items, max_pages=max_pages, **filters)

    def iter_kyc_reviews(
        self, profile_id: int, *, max_items: int | None = None, max_pages: int | None = None, **filters: Any
    ) -> AsyncPaginator[KYCReview]:
        """A profile's KYC reviews (``kycReviewList``, pageNumber paging, ends on a short page)."""
        return self.paginate("kycReviewList", profile_id, max_items=max_items, max_pages=max_pages, **filters)
