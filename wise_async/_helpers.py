"""The hand-written helpers mixed into ``WiseClient``: paginated iterators, statements, files.

Kept apart from ``_client.py`` so the client's own module stays about configuration and transport.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, cast

from .pagination import PaginationMixin

if TYPE_CHECKING:
    from ._client import WiseClient
    from .files import Files
    from .statements import BalanceStatements

__all__ = ["ClientHelpers"]


class ClientHelpers(PaginationMixin):
    """``wise.paginate`` / ``wise.iter_*`` (see :mod:`wise_async.pagination`), ``wise.statements``
    and ``wise.files`` (imported on first use)."""

    @cached_property
    def statements(self) -> BalanceStatements:
        """Balance statements in every format, over any range (:mod:`wise_async.statements`)."""
        from .statements import BalanceStatements

        return BalanceStatements(cast("WiseClient", self))

    @cached_property
    def files(self) -> Files:
        """Transfer PDFs and multipart uploads (:mod:`wise_async.files`)."""
        from .files import Files

        return Files(cast("WiseClient", self))
