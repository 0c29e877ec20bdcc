"""Generic record storage with the pagination styles Wise uses, so new resources need no new plumbing.

Records are the JSON objects the API returns; keys starting with ``_`` are private bookkeeping (owner,
expiry, idempotency) and are stripped before anything leaves the fake.
"""

from __future__ import annotations

import bisect
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
        self._orders: dict[str, tuple[list[int], list[Record]]] = {}

    def put(self, key: K, record: Record) -> Record:
        self._records[key] = record
        self._orders.clear()
        return record

    def remove(self, key: K) -> Record | None:
        found = self._records.pop(key, None)
        self._orders.clear()
        return found

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

    def _id_order(self, id_key: str) -> tuple[list[int], list[Record]]:
        """Records sorted by ``id_key`` (and their ids), cached until the next ``put``."""
        cached = self._orders.get(id_key)
        if cached is None:
            ordered = sorted(self._records.values(), key=lambda r: int(r[id_key]))
            cached = self._orders[id_key] = ([int(r[id_key]) for r in ordered], ordered)
        return cached

    def seek_page(
        self, where: Callable[[Record], bool], seek: int | None, size: int, id_key: str = "id"
    ) -> tuple[list[Record], int | None]:
        """Items with ``id >= seek`` in id order, plus the id the next page starts at (None at the end).

        Costs one page, not the whole collection: a bisect into the cached id order, then a scan that
        stops at the first match past the page.
        """
        ids, ordered = self._id_order(id_key)
        page: list[Record] = []
        for index in range(0 if seek is None else bisect.bisect_left(ids, seek), len(ordered)):
            record = ordered[index]
            if not where(record):
                continue
            if len(page) == size:
                return page, ids[index]
            page.append(record)
        return page, None

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
