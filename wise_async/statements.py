"""Balance statements in every format Wise serves, over any date range (``wise.statements``).

Wise serves one statement per request for at most 469 days, at
``/v1/profiles/{profileId}/balance-statements/{balanceId}/statement.<suffix>``. The spec describes only
``.json``; the other formats are the same request with another suffix, sent here through the client's
httpx stack, so auth, SCA (statements are SCA protected), retries and typed errors are the same::

    statement = await wise.statements.get(profile_id, balance_id, currency="EUR", start=a, end=b)
    pdf: bytes = await wise.statements.get(profile_id, balance_id, currency="EUR", start=a, end=b,
                                           format="pdf")
    for part in await wise.statements.get_parts(..., start=a, end=far_later, format="camt053"):
        save(part.start, part.end, part.content)

Longer ranges are split into consecutive windows: for JSON the parts are merged into one statement; a
binary format cannot be merged, so :meth:`BalanceStatements.get_parts` returns one file per window.

With the default SCA handler (``RaiseScaRequired``), the first window of a split range may raise
:class:`~wise_async.ScaRequiredError`; once the challenge is cleared, Wise does not ask again for a while,
so calling again fetches every window. An automatic handler (``PrivateKeyScaSigner``,
``PartnerScaSolver``) approves each request transparently.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, cast, overload

import attrs

from ._exceptions import InvalidRequestError
from ._namespace import Namespace, NamespaceHost

if TYPE_CHECKING:
    from typing_extensions import Unpack
    from wise_api.models.balance_statement_get_response_200 import BalanceStatementGetResponse200

    from ._client import WiseClient
    from ._options import RequestOptions

__all__ = [
    "MAX_STATEMENT_DAYS",
    "STATEMENT_SUFFIXES",
    "BalanceStatements",
    "BinaryStatementFormat",
    "StatementFormat",
    "StatementPart",
    "merge_statements",
    "statement_ranges",
]

StatementFormat = Literal["json", "csv", "pdf", "xlsx", "camt053", "mt940", "qif"]
BinaryStatementFormat = Literal["csv", "pdf", "xlsx", "camt053", "mt940", "qif"]
StatementType = Literal["COMPACT", "FLAT"]

STATEMENT_SUFFIXES: Mapping[str, str] = {
    "json": "json",
    "csv": "csv",
    "pdf": "pdf",
    "xlsx": "xlsx",
    "camt053": "xml",
    "mt940": "mt940",
    "qif": "qif",
}
"""Format name → path suffix (CAMT.053 is served as ``statement.xml``)."""

MAX_STATEMENT_DAYS = 469
"""The longest interval Wise serves in one statement request."""

MAX_STATEMENT_WINDOWS = 100
"""The most windows one range may need (about 128 years): more is a mistake (``datetime.max``), not a
request worth thousands of calls."""

_OPERATION_ID = "balanceStatementGet"
_JSON_PATH_END = "/statement.json"
_ONE_MS = datetime.timedelta(milliseconds=1)


def _utc(moment: datetime.datetime) -> datetime.datetime:
    """Aware UTC; a naive datetime is taken to be UTC already (Wise's statement times are UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def statement_ranges(
    start: datetime.datetime, end: datetime.datetime, *, max_days: int = MAX_STATEMENT_DAYS
) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """Consecutive windows of at most ``max_days`` covering ``[start, end]`` (ends inclusive, as Wise's).

    Each window starts 1 ms after the previous one ends, so no transaction is in two windows.
    """
    if not isinstance(start, datetime.datetime) or not isinstance(end, datetime.datetime):
        raise InvalidRequestError("statement start and end must be datetime.datetime values")
    if max_days < 1:
        raise InvalidRequestError("max_days must be at least 1")
    try:
        start, end = _utc(start), _utc(end)
        if end < start:
            raise InvalidRequestError(
                f"statement end {end.isoformat()} is before its start {start.isoformat()}"
            )
        span = datetime.timedelta(days=max_days)
        if (end - start) / span > MAX_STATEMENT_WINDOWS:
            raise InvalidRequestError(
                f"statement range {start.date()} to {end.date()} needs more than {MAX_STATEMENT_WINDOWS} "
                f"requests of {max_days} days: narrow it"
            )
        windows = []
        window_start = start
        while True:
            window_end = end if end - window_start <= span else window_start + span
            windows.append((window_start, window_end))
            if window_end >= end:
                return windows
            window_start = window_end + _ONE_MS
    except OverflowError:  # datetime.max and friends: no window can be computed around them
        raise InvalidRequestError("statement start or end is outside the dates Wise can serve") from None


def merge_statements(parts: Sequence[BalanceStatementGetResponse200]) -> BalanceStatementGetResponse200:
    """One statement from consecutive windows (given oldest first).

    Header fields come from the first part, the closing balance from the last, the query interval spans
    all parts. Transactions keep Wise's order within a part (ascending or descending by date, detected)
    and are de-duplicated by ``referenceNumber`` in case windows ever overlap.
    """
    if not parts:
        raise ValueError("no statement parts to merge")
    first, last = parts[0], parts[-1]
    if len(parts) == 1:
        return first
    ordered = list(parts)
    if _descending(parts):
        ordered.reverse()
    seen: set[str] = set()
    transactions = []
    for part in ordered:
        for transaction in part.transactions or []:
            reference = transaction.reference_number
            if isinstance(reference, str):
                if reference in seen:
                    continue
                seen.add(reference)
            transactions.append(transaction)
    first.transactions = transactions
    first.end_of_statement_balance = last.end_of_statement_balance
    if first.query and last.query:
        first.query.interval_end = last.query.interval_end
    return first


def _descending(parts: Sequence[BalanceStatementGetResponse200]) -> bool:
    """Whether Wise listed transactions newest first (the first part that shows an order decides)."""
    for part in parts:
        dates = [t.date for t in part.transactions or [] if isinstance(t.date, datetime.datetime)]
        if len(dates) >= 2 and dates[0] != dates[-1]:
            return dates[0] > dates[-1]
    return False


def _suffix(format: str) -> str:
    try:
        return STATEMENT_SUFFIXES[format]
    except KeyError:
        raise InvalidRequestError(
            f"unknown statement format {format!r}; one of {', '.join(STATEMENT_SUFFIXES)}"
        ) from None


@attrs.frozen
class StatementPart:
    """One window's statement file."""

    start: datetime.datetime
    end: datetime.datetime
    format: StatementFormat
    content: bytes = attrs.field(repr=lambda content: f"<{len(content)} bytes>")


class _SuffixedStatementOperation:
    """The generated ``balance_statement_get`` module with another suffix on the path.

    Stands in for the module in :meth:`Namespace._call`, which only needs ``_get_kwargs`` when the
    body is returned as bytes; everything else (auth, SCA resume, errors) is the facade's own path.
    """

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix

    def _get_kwargs(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from wise_api.api.balance_statement import balance_statement_get

        request: dict[str, Any] = balance_statement_get._get_kwargs(*args, **kwargs)
        url = str(request["url"])
        if not url.endswith(_JSON_PATH_END):  # pragma: no cover - guards a change of the generated path
            raise RuntimeError(f"unexpected statement path {url!r}")
        request["url"] = url[: -len(_JSON_PATH_END)] + f"/statement.{self.suffix}"
        return request


class _StatementFiles(Namespace):
    async def fetch(self, suffix: str, options: Mapping[str, Any], **kwargs: Any) -> bytes:
        op = cast(ModuleType, _SuffixedStatementOperation(suffix))
        content: bytes = await self._call(op, _OPERATION_ID, binary=True, options=options, **kwargs)
        return content

    async def download(
        self, suffix: str, to: str | os.PathLike[str], options: Mapping[str, Any], **kwargs: Any
    ) -> Path:
        op = cast(ModuleType, _SuffixedStatementOperation(suffix))
        return await self._download(op, _OPERATION_ID, to=to, options=options, **kwargs)


class BalanceStatements:
    """``wise.statements``: a balance's statement for any range, in JSON (merged) or as files."""

    def __init__(self, client: WiseClient, *, max_days: int = MAX_STATEMENT_DAYS) -> None:
        self._client = client
        self._files = _StatementFiles(cast(NamespaceHost, client))
        self.max_days = max_days

    def __repr__(self) -> str:
        return f"BalanceStatements(max_days={self.max_days})"

    @overload
    async def get(
        self,
        profile_id: int,
        balance_id: int,
        *,
        currency: str,
        start: datetime.datetime,
        end: datetime.datetime,
        format: Literal["json"] = "json",
        type: StatementType | None = None,
        locale: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> BalanceStatementGetResponse200: ...

    @overload
    async def get(
        self,
        profile_id: int,
        balance_id: int,
        *,
        currency: str,
        start: datetime.datetime,
        end: datetime.datetime,
        format: BinaryStatementFormat,
        type: StatementType | None = None,
        locale: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> bytes: ...

    async def get(
        self,
        profile_id: int,
        balance_id: int,
        *,
        currency: str,
        start: datetime.datetime,
        end: datetime.datetime,
        format: StatementFormat = "json",
        type: StatementType | None = None,
        locale: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> BalanceStatementGetResponse200 | bytes:
        """The statement of ``[start, end]``: the parsed (merged) model for JSON, the file's bytes otherwise.

        A binary format over more than ``max_days`` raises ``InvalidRequestError``: use :meth:`get_parts`.
        """
        _suffix(format)
        windows = statement_ranges(start, end, max_days=self.max_days)
        if format == "json":
            parts = [
                await self._json(profile_id, balance_id, currency, window, type, locale, options)
                for window in windows
            ]
            return merge_statements(parts)
        if len(windows) > 1:
            raise InvalidRequestError(
                f"a {format} statement covers at most {self.max_days} days; this range needs "
                f"{len(windows)} files: use get_parts()"
            )
        return await self._file(format, profile_id, balance_id, currency, windows[0], type, locale, options)

    async def download(
        self,
        profile_id: int,
        balance_id: int,
        *,
        currency: str,
        start: datetime.datetime,
        end: datetime.datetime,
        to: str | os.PathLike[str],
        format: StatementFormat = "pdf",
        type: StatementType | None = None,
        locale: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Path:
        """Stream the statement of ``[start, end]`` (one window of at most ``max_days``) into the file
        ``to`` with bounded memory, in any format; a lost connection restarts the file. Returns its path.
        """
        windows = statement_ranges(start, end, max_days=self.max_days)
        if len(windows) > 1:
            raise InvalidRequestError(
                f"one statement file covers at most {self.max_days} days; this range needs "
                f"{len(windows)}: download each window, or use get_parts()"
            )
        query = self._query(currency, windows[0], type, locale)
        return await self._files.download(
            _suffix(format), to, options, profile_id=profile_id, balance_id=balance_id, **query
        )

    async def get_parts(
        self,
        profile_id: int,
        balance_id: int,
        *,
        currency: str,
        start: datetime.datetime,
        end: datetime.datetime,
        format: StatementFormat,
        type: StatementType | None = None,
        locale: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> list[StatementPart]:
        """One file per window of at most ``max_days`` (oldest first), in any format, JSON included."""
        _suffix(format)
        return [
            StatementPart(
                window[0],
                window[1],
                format,
                await self._file(format, profile_id, balance_id, currency, window, type, locale, options),
            )
            for window in statement_ranges(start, end, max_days=self.max_days)
        ]

    @staticmethod
    def _query(
        currency: str,
        window: tuple[datetime.datetime, datetime.datetime],
        type: StatementType | None,
        locale: str | None,
    ) -> dict[str, Any]:
        from wise_api.models.balance_statement_get_type import BalanceStatementGetType
        from wise_api.types import UNSET

        return {
            "currency": currency,
            "interval_start": window[0],
            "interval_end": window[1],
            "type_": UNSET if type is None else BalanceStatementGetType(type),
            "statement_locale": UNSET if locale is None else locale,
        }

    async def _json(
        self,
        profile_id: int,
        balance_id: int,
        currency: str,
        window: tuple[datetime.datetime, datetime.datetime],
        type: StatementType | None,
        locale: str | None,
        options: RequestOptions,
    ) -> BalanceStatementGetResponse200:
        query = self._query(currency, window, type, locale)
        return await self._client.balance_statements.get(profile_id, balance_id, **query, **options)

    async def _file(
        self,
        format: StatementFormat,
        profile_id: int,
        balance_id: int,
        currency: str,
        window: tuple[datetime.datetime, datetime.datetime],
        type: StatementType | None,
        locale: str | None,
        options: RequestOptions,
    ) -> bytes:
        query = self._query(currency, window, type, locale)
        return await self._files.fetch(
            _suffix(format), options, profile_id=profile_id, balance_id=balance_id, **query
        )
