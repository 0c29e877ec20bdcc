"""The ``WiseClient`` methods that start paginators (``wise.iter_recipients()`` ...): generated per paged
operation (``wise_api.iterators``, from the spec), over :data:`wise_async.pagination.PAGING_STYLES`.

Kept apart from :mod:`wise_async.pagination` so that creating ``WiseClient`` does not load the paginator
machinery: it is imported when the first paginator is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wise_api.iterators import PagedIterators

if TYPE_CHECKING:
    from .pagination import AsyncPaginator


class PaginationMixin(PagedIterators):
    """``WiseClient.paginate`` and one typed iterator per paged list (generated: ``wise_api.iterators``).

    An iterator's keyword arguments are the facade method's filters (``currency=``, ``status=``,
    ``since=`` ...), typed as the facade types them; page size and cursor keywords may be given to start
    elsewhere than the first page. ``cardTransactionList`` takes a creation-time window of at most 90
    days (Wise answers a longer one with 422, raised as ``UnprocessableEntityError`` on the first page).
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
