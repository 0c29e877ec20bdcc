"""Seedable collections for every paged list, statements and uploaded files (mixed into ``FakeWise``).

``fake.seed_recipients(100_000)``, ``fake.seed_activities(250)``, ``fake.seed_card_transactions(...)``...
create records shaped like the spec's response schemas, directly (no HTTP), for the routes in
``_routes_paging``, ``_routes_statements`` and ``_routes_files`` to page through. Ids come from counters
and times from the fake clock, so runs are reproducible. The state is created on first use.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import itertools
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from ._clock import format_iso, format_wise_datetime
from ._store import Collection, Record

if TYPE_CHECKING:
    from ._clock import FakeClock

__all__ = ["PagedResources", "UploadedFile", "timestamp"]

Moment = datetime.datetime | float
_DAY = 86_400.0
_ID_STARTS = {
    "activity": 70_000_001,
    "card_order": 81_000_001,
    "card_transaction": 82_000_001,
    "balance": 90_000_001,
    "balance_transaction": 96_000_001,
    "statement_line": 91_000_001,
    "file": 95_000_001,
}


def timestamp(moment: Moment) -> float:
    """Seconds since the epoch; a naive datetime is UTC."""
    if isinstance(moment, datetime.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment.timestamp()
    return float(moment)


def iso_millis(ts: float) -> str:
    return format_iso(ts, millis=True)


@dataclass(frozen=True)
class UploadedFile:
    """One file part received by an upload route, with the request's text parts beside it."""

    operation_id: str
    profile_id: int
    part_name: str
    filename: str | None
    content_type: str | None
    content: bytes
    fields: dict[str, str] = field(default_factory=dict)
    file_id: str | None = None


class PagedResources:
    """The paged lists' data and its seeding helpers; ``FakeWise`` inherits this."""

    if TYPE_CHECKING:  # provided by FakeWise
        _lock: threading.RLock
        clock: FakeClock
        user_id: int
        personal_profile_id: int
        profiles: Collection[int]
        recipients: Collection[int]
        transfers: Collection[int]
        balances: dict[tuple[int, str], Decimal]

        def _next_id(self, kind: str) -> int: ...
        def _new_secret(self) -> str: ...

    # -------------------------------------------------------------- state, created on first use

    @cached_property
    def activities(self) -> Collection[str]:
        """``activityList`` records (``_profile_id``, ``_at`` private)."""
        return Collection("activities")

    @cached_property
    def cards(self) -> Collection[str]:
        """``cardList`` records by card token."""
        return Collection("cards")

    @cached_property
    def card_orders(self) -> Collection[int]:
        return Collection("card_orders")

    @cached_property
    def card_transactions(self) -> Collection[int]:
        """``cardTransactionList`` records (listed by descending id)."""
        return Collection("card_transactions")

    @cached_property
    def disputes(self) -> Collection[str]:
        return Collection("disputes")

    @cached_property
    def kyc_reviews(self) -> Collection[str]:
        return Collection("kyc_reviews")

    @cached_property
    def statement_transactions(self) -> dict[int, list[Record]]:
        """Statement lines per balance id, oldest first (``_at`` private)."""
        return {}

    @cached_property
    def uploads(self) -> list[UploadedFile]:
        """Every file received by the upload routes, in arrival order."""
        return []

    @cached_property
    def _balance_ids(self) -> dict[tuple[int, str], int]:
        return {}

    @cached_property
    def _extra_ids(self) -> dict[str, Iterator[int]]:
        return {kind: itertools.count(start) for kind, start in _ID_STARTS.items()}

    activity_end_cursor: Literal["null", "absent", "empty"] = "null"
    """How ``activityList`` marks its last page: ``cursor: null``, no ``cursor`` key, or ``""``."""

    def _new_id(self, kind: str) -> int:
        return next(self._extra_ids[kind])

    # -------------------------------------------------------------- balances

    def balance_id(self, profile_id: int, currency: str) -> int:
        """The id of a profile's balance in ``currency`` (assigned on first use, stable afterwards)."""
        with self._lock:
            key = (profile_id, currency.upper())
            found = self._balance_ids.get(key)
            if found is None:
                found = self._balance_ids[key] = self._new_id("balance")
                self.balances.setdefault(key, Decimal(0))
            return found

    def balance_of_id(self, balance_id: int) -> tuple[int, str] | None:
        """(profile id, currency) of a balance id."""
        with self._lock:
            return next((key for key, value in self._balance_ids.items() if value == balance_id), None)

    # -------------------------------------------------------------- seeding

    def _profile(self, profile_id: int | None) -> int:
        return self.personal_profile_id if profile_id is None else profile_id

    def seed_recipients(self, n: int, *, profile_id: int | None = None, currency: str = "EUR") -> list[int]:
        """``n`` active IBAN recipients of the profile (as ``recipientCreate`` makes them); their ids.

        Records share their unchanging parts, so even 100,000 of them stay small.
        """
        with self._lock:
            profile = self._profile(profile_id)
            owner = self.profiles.record(profile)
            creator = owner["userId"] if owner else self.user_id
            common = {"accountNumberField": "iban"}  # shared: handlers never mutate nested values
            no_fields: list[Record] = []
            ids = []
            for index in range(n):
                recipient_id = self._next_id("recipient")
                iban = f"DE89370400440{recipient_id:09d}"
                name = f"Seeded Recipient {index + 1}"
                self.recipients.put(
                    recipient_id,
                    {
                        "id": recipient_id,
                        "creatorId": creator,
                        "profileId": profile,
                        "name": {"fullName": name},
                        "currency": currency,
                        "type": "Iban",
                        "legalEntityType": "PERSON",
                        "active": True,
                        "details": {"iban": iban, "reference": None},
                        "commonFieldMap": common,
                        "hash": hashlib.sha256(iban.encode()).hexdigest()[:32],
                        "accountSummary": iban,
                        "longAccountSummary": f"{currency} account ending in {iban[-4:]}",
                        "displayFields": no_fields,
                        "isInternal": False,
                        "ownedByCustomer": False,
                        "country": "DE",
                        "_request_type": "iban",
                    },
                )
                ids.append(recipient_id)
            return ids

    def seed_transfers(
        self,
        n: int,
        *,
        profile_id: int | None = None,
        status: str = "outgoing_payment_sent",
        source_currency: str = "GBP",
        target_currency: str = "EUR",
    ) -> list[int]:
        """``n`` transfers of the profile, one minute apart, oldest first; their ids."""
        with self._lock:
            profile = self._profile(profile_id)
            owner = self.profiles.record(profile) or {}
            user = owner.get("userId", self.user_id)
            base = self.clock.now() - n * 60.0
            ids = []
            for index in range(n):
                transfer_id = self._next_id("transfer")
                at = base + index * 60.0
                self.transfers.put(
                    transfer_id,
                    {
                        "id": transfer_id,
                        "user": user,
                        "targetAccount": 0,
                        "sourceAccount": None,
                        "quote": None,
                        "quoteUuid": str(uuid.UUID(int=transfer_id)),
                        "status": status,
                        "reference": f"seed {index + 1}",
                        "rate": 1.15,
                        "created": format_wise_datetime(at),
                        "business": owner.get("id") if owner.get("type") == "BUSINESS" else None,
                        "transferRequest": None,
                        "details": {"reference": f"seed {index + 1}"},
                        "hasActiveIssues": False,
                        "sourceCurrency": source_currency,
                        "sourceValue": 100.0,
                        "targetCurrency": target_currency,
                        "targetValue": 115.0,
                        "customerTransactionId": str(uuid.UUID(int=transfer_id + (1 << 64))),
                        "_profile_id": profile,
                        "_created_at": at,
                        "_payment": None,
                    },
                )
                ids.append(transfer_id)
            return ids

    def seed_activities(
        self,
        n: int,
        *,
        profile_id: int | None = None,
        status: str = "COMPLETED",
        resource_type: str = "TRANSFER",
        every: float = 3600.0,
    ) -> list[str]:
        """``n`` activities of the profile, ``every`` seconds apart up to now; ids newest first."""
        with self._lock:
            profile = self._profile(profile_id)
            now = self.clock.now()
            ids = []
            for index in range(n):
                number = self._new_id("activity")
                at = now - (n - index) * every
                key = f"MONETARY_ACTIVITY::{profile}::{resource_type}::{number}"
                activity_id = base64.b64encode(key.encode()).decode()
                self.activities.put(
                    activity_id,
                    {
                        "id": activity_id,
                        "type": resource_type,
                        "resource": {"type": resource_type, "id": str(number)},
                        "title": f"<strong>Seeded activity {index + 1}</strong>",
                        "description": "Seeded by FakeWise",
                        "primaryAmount": "10 EUR",
                        "secondaryAmount": "",
                        "status": status,
                        "createdOn": iso_millis(at),
                        "updatedOn": iso_millis(at),
                        "_profile_id": profile,
                        "_at": at,
                        "_seq": number,
                    },
                )
                ids.append(activity_id)
            return ids[::-1]

    def seed_cards(self, n: int, *, profile_id: int | None = None, status: str = "ACTIVE") -> list[str]:
        """``n`` cards of the profile; their tokens, oldest first."""
        with self._lock:
            profile = self._profile(profile_id)
            now = self.clock.now()
            tokens = []
            for index in range(n):
                token = self._new_secret()
                at = now - (n - index) * _DAY
                self.cards.put(
                    token,
                    {
                        "token": token,
                        "profileId": profile,
                        "clientId": "fake-client",
                        "status": {"value": status},
                        "cardHolderName": "Ada Lovelace",
                        "expiryDate": iso_millis(now + 3 * 365 * _DAY),
                        "lastFourDigits": f"{index % 10_000:04d}",
                        "bankIdentificationNumber": "459999",
                        "phoneNumber": "+447700900123",
                        "cardProgram": {
                            "name": "VISA_DEBIT_CARDS_API",
                            "scheme": "VISA",
                            "defaultCurrency": "GBP",
                            "cardType": "VIRTUAL_NON_UPGRADEABLE",
                        },
                        "creationTime": iso_millis(at),
                        "modificationTime": iso_millis(at),
                        "_seq": index,
                    },
                )
                tokens.append(token)
            return tokens

    def seed_card_orders(self, n: int, *, profile_id: int | None = None) -> list[int]:
        """``n`` card orders of the profile; their ids, oldest first."""
        with self._lock:
            profile = self._profile(profile_id)
            now = self.clock.now()
            ids = []
            for index in range(n):
                order_id = self._new_id("card_order")
                at = now - (n - index) * _DAY
                self.card_orders.put(
                    order_id,
                    {
                        "id": order_id,
                        "profileId": profile,
                        "clientId": "fake-client",
                        "cardProgram": {
                            "name": "VISA_DEBIT_CARDS_API",
                            "scheme": "VISA",
                            "defaultCurrency": "GBP",
                            "cardType": "PHYSICAL",
                        },
                        "address": {
                            "firstLine": "1 Fake Street",
                            "secondLine": None,
                            "thirdLine": None,
                            "city": "London",
                            "postCode": "EC1A 1AA",
                            "state": None,
                            "country": "GB",
                        },
                        "cardToken": None,
                        "replacesCard": None,
                        "creationTime": iso_millis(at),
                        "modificationTime": iso_millis(at),
                        "status": "PLACED",
                        "cardHolderName": "Ada Lovelace",
                        "phoneNumber": "+447700900123",
                        "lifetimeLimit": None,
                        "deliveryEstimate": iso_millis(at + 7 * _DAY),
                    },
                )
                ids.append(order_id)
            return ids

    def seed_card_transactions(
        self,
        n: int,
        *,
        card_token: str | None = None,
        profile_id: int | None = None,
        latest: Moment | None = None,
        every: float = 3600.0,
    ) -> list[int]:
        """``n`` transactions of a card (a new one unless ``card_token``), ``every`` seconds apart
        ending at ``latest`` (default: now); their ids, newest first (the order Wise lists them)."""
        with self._lock:
            profile = self._profile(profile_id)
            token = card_token or self.seed_cards(1, profile_id=profile)[0]
            end = self.clock.now() if latest is None else timestamp(latest)
            ids = []
            for index in range(n):
                transaction_id = self._new_id("card_transaction")
                at = end - (n - 1 - index) * every
                amount = {"amount": 10.0 + index % 90, "currency": "GBP"}
                self.card_transactions.put(
                    transaction_id,
                    {
                        "id": transaction_id,
                        "cardToken": token,
                        "type": "ECOM_PURCHASE",
                        "state": "COMPLETED",
                        "declineReason": None,
                        "creationTime": iso_millis(at),
                        "modificationTime": iso_millis(at),
                        "transactionAmount": amount,
                        "transactionAmountWithFees": amount,
                        "fees": [],
                        "merchant": {"name": f"Seeded merchant {index + 1}"},
                        "authorisationMethod": "MANUAL_ENTRY",
                        "_profile_id": profile,
                        "_at": at,
                    },
                )
                ids.append(transaction_id)
            return ids[::-1]

    def seed_disputes(self, n: int, *, profile_id: int | None = None, status: str = "ACTIVE") -> list[str]:
        """``n`` card disputes of the profile; their ids, oldest first."""
        with self._lock:
            profile = self._profile(profile_id)
            now = self.clock.now()
            ids = []
            for index in range(n):
                dispute_id = self._new_secret()
                at = now - (n - index) * _DAY
                self.disputes.put(
                    dispute_id,
                    {
                        "id": dispute_id,
                        "transactionId": 82_000_000 - index,
                        "profileId": profile,
                        "reason": "WRONG_AMOUNT",
                        "status": status,
                        "subStatus": "SUBMITTED" if status == "ACTIVE" else "REFUNDED",
                        "statusMessage": "Seeded by FakeWise",
                        "createdAt": iso_millis(at),
                        "createdBy": "Ada Lovelace",
                        "lastUpdatedAt": iso_millis(at),
                        "canWithdraw": status == "ACTIVE",
                        "_seq": index,
                    },
                )
                ids.append(dispute_id)
            return ids

    def seed_kyc_reviews(
        self, n: int, *, profile_id: int | None = None, status: str = "WAITING_CUSTOMER_INPUT"
    ) -> list[str]:
        """``n`` KYC reviews of the profile; their ids, oldest first."""
        with self._lock:
            profile = self._profile(profile_id)
            now = self.clock.now()
            ids = []
            for index in range(n):
                review_id = self._new_secret()
                at = now - (n - index) * _DAY
                self.kyc_reviews.put(
                    review_id,
                    {
                        "id": review_id,
                        "status": status,
                        "link": None,
                        "createdAt": iso_millis(at),
                        "updatedAt": iso_millis(at),
                        "requiredBy": None,
                        "triggerReferences": [],
                        "redirectUrl": None,
                        "requirements": [],
                        "_profile_id": profile,
                        "_seq": index,
                        "_submissions": [],
                    },
                )
                ids.append(review_id)
            return ids

    def seed_statement_transactions(
        self,
        n: int,
        *,
        start: Moment,
        end: Moment,
        profile_id: int | None = None,
        currency: str = "EUR",
        opening_balance: Decimal | int | str = 0,
    ) -> int:
        """``n`` statement lines spread evenly over ``[start, end]`` on a balance; its balance id.

        Lines alternate between a 100.00 credit and a 40.00 debit, so running balances grow.
        """
        with self._lock:
            profile = self._profile(profile_id)
            balance = self.balance_id(profile, currency)
            lines = self.statement_transactions.setdefault(balance, [])
            first, last = timestamp(start), timestamp(end)
            step = (last - first) / max(n - 1, 1)
            running = Decimal(str(opening_balance))
            if lines:
                running = Decimal(str(lines[-1]["runningBalance"]["value"]))
            for index in range(n):
                at = first + index * step
                credit = index % 2 == 0
                amount = Decimal("100.00") if credit else Decimal("-40.00")
                running += amount
                number = self._new_id("statement_line")
                lines.append(
                    {
                        "type": "CREDIT" if credit else "DEBIT",
                        "date": iso_millis(at),
                        "amount": {"value": float(amount), "currency": currency},
                        "totalFees": {"value": 0.0, "currency": currency},
                        "details": {
                            "type": "DEPOSIT" if credit else "TRANSFER",
                            "description": "Received money" if credit else "Sent money",
                        },
                        "exchangeDetails": None,
                        "runningBalance": {"value": float(running), "currency": currency},
                        "referenceNumber": f"{'DEPOSIT' if credit else 'TRANSFER'}-{number}",
                        "_at": at,
                    }
                )
            lines.sort(key=lambda line: line["_at"])
            return balance
