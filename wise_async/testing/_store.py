"""Generic record storage with the pagination styles Wise uses, so new resources need no new plumbing.

Records are the JSON objects the API returns; keys starting with ``_`` are private bookkeeping (owner,
expiry, idempotency) and are stripped before anything leaves the fake.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

__all__ = ["BalanceMovement", "Collection", "Record", "public"]

Record = dict[str, Any]
K = TypeVar("K", bound=Hashable)


def public(record: Record) -> Record:
    """A deep copy without private keys: what a client may see, safe from later mutation."""
    return {key: copy.deepcopy(value) for key, value in record.items() if not key.startswith("_")}


class Collection(Generic[K]):
    """Insertion-ordered records by id, with seek and offset pagination."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._records: dict[K, Record] = {}

    def put(self, key: K, record: Record) -> Record:
        self._records[key] = record
        return record

    def record(self, key: K) -> Record | None:
        """The live internal record (mutable; handlers only)."""
        return self._records.get(key)

    def get(self, key: K) -> Record | None:
        """A public copy, for tests asserting on state."""
        found = self._records.get(key)
        return None if found is None else public(found)

    def values(self) -> list[Record]:
        return [public(record) for record in self._records.values()]

    def records(self, where: Callable[[Record], bool] | None = None) -> list[Record]:
        return [r for r in self._records.values() if where is None or where(r)]

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: object) -> bool:
        return key in self._records

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._records))

    def seek_page(
        self, where: Callable[[Record], bool], seek: int | None, size: int, id_key: str = "id"
    ) -> tuple[list[Record], int | None]:
        """Items with ``id >= seek`` in id order, plus the id the next page starts at (None at the end)."""
        matching = sorted(self.records(where), key=lambda r: int(r[id_key]))
        if seek is not None:
            matching = [r for r in matching if int(r[id_key]) >= seek]
        page = matching[:size]
        following = matching[size : size + 1]
        return page, (int(following[0][id_key]) if following else None)

    def offset_page(
        self,
        where: Callable[[Record], bool],
        offset: int,
        limit: int,
        newest_first: bool = True,
        id_key: str = "id",
    ) -> list[Record]:
        """``limit`` items from ``offset``; newest first, as Wise lists transfers."""
        matching = sorted(self.records(where), key=lambda r: int(r[id_key]), reverse=newest_first)
        return matching[offset : offset + limit]


@dataclass(frozen=True)
class BalanceMovement:
    """One change to a balance; funding debits appear here exactly once per transfer."""

    profile_id: int
    currency: str
    amount: Decimal  # negative for debits
    balance_after: Decimal
    reason: str
    transfer_id: int | None
    at: float
