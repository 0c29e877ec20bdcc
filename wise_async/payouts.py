"""Crash-safe payouts: quote, transfer and funding in one call that can be repeated after any failure.

``await wise.payouts.send(profile_id, recipient=..., source_currency=..., target_currency=...,
source_amount=Decimal("100"), reference="Invoice 7", key="invoice-7")`` quotes, creates the transfer
with a ``customerTransactionId`` derived from ``key``, and funds it from the balance. Called again with
the same key — after a crash, a lost answer or a killed process at any step — it continues from what
exists instead of starting over:

* never a second transfer: the transfer request is written to the store *before* it is sent, and a
  resume sends that exact request again (Wise answers a replayed ``customerTransactionId`` with the
  transfer it made; another body under the same id would be a 409, so nothing is ever re-quoted once a
  transfer request exists). With the store lost, Wise's transfer list is searched for the derived id;
* never a second funding: ``funding sent`` is written before the funding request; a resume after it asks
  Wise for the transfer's state and funds only a transfer still waiting for its money;
* never an unfunded transfer the caller does not know about: a refused funding (insufficient balance,
  a cancelled transfer) raises :class:`PayoutNotFundedError` naming the transfer; calling ``send``
  again with the key funds it;
* a quote that expired before any transfer was made is replaced by a new quote with the same amounts
  and currencies (never other ones): before the transfer request exists, or when Wise refuses that very
  request (4xx) once the quote has expired — a refusal means Wise holds nothing under its
  ``customerTransactionId`` (a replay of an accepted request returns the transfer), so the new request
  goes under the next id derived from the key (``generation``), never the same id with another body.

State that must outlive the process lives in a :class:`PayoutStore`: :class:`MemoryPayoutStore` (one
process; the default of ``wise.payouts``) or ``wise_async.redis.RedisPayoutStore`` (a fleet, restarts).
The store also holds a per-key lease, so two workers never drive the same payout at once.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, runtime_checkable

from ._exceptions import (
    APIConnectionError,
    BadRequestError,
    InvalidRequestError,
    UnprocessableEntityError,
    WiseError,
)

if TYPE_CHECKING:
    from wise_api.models import OriginatorTransfer, Quote, StandardTransfer, TransferFundResponse200
    from wise_api.request_dicts import QuoteCreateBodyDict, TransferCreateBodyDict

    from ._client import WiseClient

__all__ = [
    "PAYOUT_NAMESPACE",
    "MemoryPayoutStore",
    "PayoutConflictError",
    "PayoutError",
    "PayoutInProgressError",
    "PayoutNotFundedError",
    "PayoutRecord",
    "PayoutResult",
    "PayoutStep",
    "PayoutStore",
    "Payouts",
    "customer_transaction_id",
]

PAYOUT_NAMESPACE = uuid.UUID("5b0f7a52-5e36-4d0c-9a3c-8c1f1a0b9e61")
"""UUIDv5 namespace of the ``customerTransactionId`` derived from a payout key."""

PayoutStep = Literal["quoted", "transfer_requested", "transfer_created", "funding_sent", "funded"]
"""What ``on_step`` is told, each time after the store has recorded it."""

Funding = Literal["none", "sent", "rejected", "done"]
AWAITING_FUNDS = "incoming_payment_waiting"
NOT_FUNDABLE = frozenset({"cancelled", "funds_refunded", "bounced_back", "charged_back"})


MAX_GENERATIONS = 8
"""Transfer requests one payout may make: a new one only after Wise refused the last (an expired quote)."""


def customer_transaction_id(profile_id: int, key: str, generation: int = 0) -> str:
    """The ``customerTransactionId`` of the payout ``key`` of a profile (stable across processes).

    ``generation`` counts transfer requests Wise refused outright (an expired quote): only then does a
    payout send a new request, under a new id, since Wise holds nothing under the refused one.
    """
    suffix = f"\x00{generation}" if generation else ""
    return str(uuid.uuid5(PAYOUT_NAMESPACE, f"{profile_id}\x00{key}{suffix}"))


class PayoutError(WiseError):
    """A payout could not be completed as asked; ``key`` names it. Nothing was done twice."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


class PayoutConflictError(PayoutError, InvalidRequestError):
    """The key was used for a payout with other parameters (recipient, amount, currencies, reference).

    Raised before anything is sent: a key names one payout forever."""


class PayoutInProgressError(PayoutError):
    """Another task or process holds this payout's lease (it is driving the same key right now)."""


class PayoutNotFundedError(PayoutError):
    """The transfer exists but is not funded: Wise refused the funding (``reason``), or the transfer
    can no longer be funded (cancelled). Calling ``send`` again with the key retries the funding."""

    def __init__(self, message: str, *, key: str, transfer_id: int, reason: str | None) -> None:
        super().__init__(message, key=key)
        self.transfer_id = transfer_id
        self.reason = reason


@dataclass(frozen=True)
class PayoutRecord:
    """What the store keeps per payout: the caller's parameters and how far the payout got.

    ``transfer_request`` is the exact transferCreate body, written before it is first sent.
    """

    key: str
    profile_id: int
    customer_transaction_id: str
    recipient: int
    source_currency: str
    target_currency: str
    source_amount: str | None
    target_amount: str | None
    reference: str
    quote_id: str | None = None
    quote_expires_at: float | None = None
    quotes_made: int = 0
    transfer_request: dict[str, Any] | None = None
    generation: int = 0
    transfer_id: int | None = None
    funding: Funding = "none"
    payment: dict[str, Any] | None = None

    @property
    def store_key(self) -> str:
        return store_key(self.profile_id, self.key)

    def same_payout(self, other: PayoutRecord) -> bool:
        fields = ("recipient", "source_currency", "target_currency", "source_amount", "target_amount")
        return all(getattr(self, name) == getattr(other, name) for name in (*fields, "reference"))

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> PayoutRecord:
        values: dict[str, Any] = json.loads(data)
        return cls(**values)


def store_key(profile_id: int, key: str) -> str:
    return f"{profile_id}:{key}"


@runtime_checkable
class PayoutStore(Protocol):
    """Durable payout state plus a per-payout lease. Implementations must be safe across tasks; a store
    shared by processes must make ``try_lease`` atomic across them."""

    async def load(self, key: str) -> PayoutRecord | None:
        """The record stored under ``key`` (``PayoutRecord.store_key``), or None."""
        ...

    async def save(self, record: PayoutRecord) -> None:
        """Store ``record`` under its ``store_key``, durably, before returning."""
        ...

    async def try_lease(self, key: str) -> AbstractAsyncContextManager[None] | None:
        """Take ``key``'s lease without waiting (None if held elsewhere); held until the returned context
        manager exits. A holder that dies must not block the others for longer than the store's lease."""
        ...


class _MemoryLease:
    def __init__(self, store: MemoryPayoutStore, key: str) -> None:
        self._store, self._key = store, key

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> None:
        with self._store._lock:
            self._store._leased.discard(self._key)


class MemoryPayoutStore:
    """Payout records in this process (lost with it: Wise's transfer list is then the fallback)."""

    def __init__(self) -> None:
        self._records: dict[str, bytes] = {}
        self._leased: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryPayoutStore(payouts={len(self._records)})"

    async def load(self, key: str) -> PayoutRecord | None:
        with self._lock:
            data = self._records.get(key)
        return None if data is None else PayoutRecord.from_json(data)

    async def save(self, record: PayoutRecord) -> None:
        data = record.to_json()  # stored serialized, as a real store would: no shared mutable state
        with self._lock:
            self._records[record.store_key] = data

    async def try_lease(self, key: str) -> AbstractAsyncContextManager[None] | None:
        with self._lock:
            if key in self._leased:
                return None
            self._leased.add(key)
        return _MemoryLease(self, key)


@dataclass(frozen=True)
class PayoutResult:
    """The outcome of ``send``: what exists at Wise, and which steps were found done rather than done now.

    ``resumed`` lists the steps an earlier call had already completed (``"quote"``, ``"transfer"``,
    ``"funding"``); ``adopted`` is True when the transfer was found through Wise's transfer list because
    the store had no record. ``payment`` is None when the funding answer was lost and the transfer's
    state showed it funded.
    """

    key: str
    customer_transaction_id: str
    quote: Quote
    transfer: StandardTransfer | OriginatorTransfer
    payment: TransferFundResponse200 | None
    resumed: tuple[str, ...] = ()
    quotes_made: int = 1
    adopted: bool = False


StepHook = Callable[[PayoutStep], "Awaitable[None] | None"]


@dataclass
class _Run:
    record: PayoutRecord
    resumed: list[str] = field(default_factory=list)
    adopted: bool = False
    quote: Quote | None = None
    transfer: StandardTransfer | OriginatorTransfer | None = None
    payment: TransferFundResponse200 | None = None


def _decimal_text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (Decimal, int)) or isinstance(value, bool):
        raise InvalidRequestError(
            f"{name} must be a Decimal (money is never a float), not {type(value).__name__}"
        )
    amount = Decimal(value)
    if not amount.is_finite() or amount <= 0:
        raise InvalidRequestError(f"{name} must be a positive amount")
    return str(amount)


def _timestamp(value: object) -> float | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return None


def _is_transfer_of(record: PayoutRecord, transfer: StandardTransfer | OriginatorTransfer) -> bool:
    """Whether a transfer found under the key's id pays what the caller asks (recipient and amount)."""
    recipient = getattr(transfer, "target_account", None)
    by_source = record.source_amount is not None
    amount = getattr(transfer, "source_value" if by_source else "target_value", None)
    wanted = record.source_amount if by_source else record.target_amount
    return (recipient is None or recipient == record.recipient) and (
        amount is None or Decimal(str(amount)) == Decimal(str(wanted))
    )


class Payouts:
    """``send`` payouts by key (``wise.payouts`` uses a :class:`MemoryPayoutStore`; pass a durable store
    for payouts that must survive the process): ``Payouts(wise, store=RedisPayoutStore(redis))``.

    ``search_window`` bounds how far back Wise's transfer list is searched for a key the store does not
    know (the store was lost, or another one was used).
    """

    def __init__(
        self,
        client: WiseClient,
        *,
        store: PayoutStore | None = None,
        search_window: timedelta = timedelta(days=7),
    ) -> None:
        self._wise = client
        self.store: PayoutStore = store if store is not None else MemoryPayoutStore()
        self.search_window = search_window

    def __repr__(self) -> str:
        return f"Payouts(store={self.store!r})"

    async def record(self, profile_id: int, key: str) -> PayoutRecord | None:
        """What the store holds for the payout ``key`` of a profile (None: nothing yet)."""
        return await self.store.load(store_key(profile_id, key))

    async def send(
        self,
        profile_id: int,
        *,
        recipient: int,
        source_currency: str,
        target_currency: str,
        source_amount: Decimal | None = None,
        target_amount: Decimal | None = None,
        reference: str = "",
        key: str,
        on_step: StepHook | None = None,
    ) -> PayoutResult:
        """Quote, create and fund one transfer, or finish the one an earlier call with ``key`` began.

        Give exactly one of ``source_amount`` and ``target_amount``. ``on_step`` is called after each
        step is recorded in the store (an exception from it ends the call as a crash would; calling
        again resumes). Raises :class:`PayoutNotFundedError` when the transfer exists but Wise did not
        fund it, :class:`PayoutConflictError` when ``key`` was used for another payout,
        :class:`PayoutInProgressError` while another caller drives the same key, and the usual
        ``WiseError`` subclasses when Wise cannot be reached (call again: nothing is done twice).
        """
        if not isinstance(key, str) or not key:  # 7 and "7" would name one payout: only text is taken
            raise InvalidRequestError("key must be a non-empty string: it names the payout")
        if (source_amount is None) == (target_amount is None):
            raise InvalidRequestError("give exactly one of source_amount and target_amount")
        wanted = PayoutRecord(
            key=key,
            profile_id=profile_id,
            customer_transaction_id=customer_transaction_id(profile_id, key),
            recipient=recipient,
            source_currency=source_currency,
            target_currency=target_currency,
            source_amount=_decimal_text("source_amount", source_amount),
            target_amount=_decimal_text("target_amount", target_amount),
            reference=reference,
        )
        lease = await self.store.try_lease(wanted.store_key)
        if lease is None:
            raise PayoutInProgressError(f"payout {key!r} is being sent by another caller", key=key)
        async with lease:
            return await self._drive(wanted, on_step)

    async def _drive(self, wanted: PayoutRecord, on_step: StepHook | None) -> PayoutResult:
        stored = await self.store.load(wanted.store_key)
        if stored is not None and not stored.same_payout(wanted):
            raise PayoutConflictError(
                f"payout key {wanted.key!r} was used for another payout (recipient, amount, currencies or "
                "reference differ); a key names one payout",
                key=wanted.key,
            )
        run = _Run(stored or wanted)
        if stored is None:
            await self._adopt(run)
        if run.record.transfer_id is None:
            if run.record.transfer_request is None:
                await self._quote(run, on_step)
                await self._request_transfer(run, on_step)
            else:
                run.resumed.append("quote")
            await self._create_transfer(run, on_step)
        else:
            run.resumed.extend(("quote", "transfer"))
        await self._fund(run, on_step)
        return await self._result(run)

    async def _save(
        self, run: _Run, step: PayoutStep | None, on_step: StepHook | None, **changes: Any
    ) -> None:
        run.record = replace(run.record, **changes)
        await self.store.save(run.record)
        if step is not None and on_step is not None:
            outcome = on_step(step)
            if outcome is not None:
                await outcome

    async def _adopt(self, run: _Run) -> None:
        """No record: a transfer with our derived id may still exist at Wise (the store was lost)."""
        record = run.record
        ids = {
            customer_transaction_id(record.profile_id, record.key, generation): generation
            for generation in range(MAX_GENERATIONS)
        }
        since = datetime.fromtimestamp(self._wise._clock(), timezone.utc) - self.search_window
        async for transfer in self._wise.iter_transfers(
            profile=record.profile_id,
            source_currency=record.source_currency,
            target_currency=record.target_currency,
            created_date_start=since,
        ):
            found = str(getattr(transfer, "customer_transaction_id", "")).lower()
            if found in ids:
                if not _is_transfer_of(record, transfer):
                    raise PayoutConflictError(
                        f"transfer {transfer.id} was made under payout key {record.key!r} for another "
                        "recipient or amount; a key names one payout",
                        key=record.key,
                    )
                run.transfer, run.adopted = transfer, True
                quote_uuid = getattr(transfer, "quote_uuid", None)
                funding: Funding = "sent" if transfer.status != AWAITING_FUNDS else "none"
                run.record = replace(
                    record,
                    customer_transaction_id=found,
                    generation=ids[found],
                    quote_id=None if quote_uuid is None else str(quote_uuid),
                    quotes_made=1,
                    transfer_id=transfer.id,
                    funding=funding,
                )
                await self.store.save(run.record)
                return
        await self.store.save(record)

    async def _quote(self, run: _Run, on_step: StepHook | None) -> None:
        record = run.record
        expires = record.quote_expires_at
        if record.quote_id is not None and (expires is None or self._wise._clock() < expires):
            run.resumed.append("quote")
            return
        body: QuoteCreateBodyDict = {
            "sourceCurrency": record.source_currency,
            "targetCurrency": record.target_currency,
            "targetAccount": record.recipient,
        }
        if record.source_amount is not None:
            body["sourceAmount"] = Decimal(record.source_amount)
        else:
            body["targetAmount"] = Decimal(str(record.target_amount))
        quote = await self._wise.quotes.create(record.profile_id, body=body)
        run.quote = quote
        await self._save(
            run,
            "quoted",
            on_step,
            quote_id=str(quote.id),
            quote_expires_at=_timestamp(quote.expiration_time),
            quotes_made=record.quotes_made + 1,
        )

    async def _request_transfer(self, run: _Run, on_step: StepHook | None) -> None:
        record = run.record
        request: dict[str, Any] = {
            "targetAccount": record.recipient,
            "quoteUuid": record.quote_id,
            "customerTransactionId": record.customer_transaction_id,
        }
        if record.reference:
            request["details"] = {"reference": record.reference}
        await self._save(run, "transfer_requested", on_step, transfer_request=request)

    async def _create_transfer(self, run: _Run, on_step: StepHook | None) -> None:
        # The exact recorded request, every time: a replay Wise recognises, never a new transfer.
        try:
            transfer = await self._wise.transfers.create(body=self._transfer_request(run.record))
        except (BadRequestError, UnprocessableEntityError):
            if not self._may_requote(run.record):
                raise
            # Wise refused the very request (a replay of one it had accepted returns that transfer), so
            # nothing exists under this id: a new quote, the same amounts, a new id for the new request.
            generation = run.record.generation + 1
            await self._save(
                run,
                None,
                None,
                generation=generation,
                customer_transaction_id=customer_transaction_id(
                    run.record.profile_id, run.record.key, generation
                ),
                transfer_request=None,
            )
            await self._quote(run, on_step)
            await self._request_transfer(run, on_step)
            transfer = await self._wise.transfers.create(body=self._transfer_request(run.record))
        run.transfer = transfer
        await self._save(run, "transfer_created", on_step, transfer_id=transfer.id)

    @staticmethod
    def _transfer_request(record: PayoutRecord) -> TransferCreateBodyDict:
        """The recorded transfer request (JSON from the store), exactly as it was first made."""
        return cast("TransferCreateBodyDict", dict(record.transfer_request or {}))

    def _may_requote(self, record: PayoutRecord) -> bool:
        """A refused transfer request is re-made only when its quote has expired meanwhile."""
        expires = record.quote_expires_at
        return (
            expires is not None and self._wise._clock() >= expires and record.generation + 1 < MAX_GENERATIONS
        )

    async def _fund(self, run: _Run, on_step: StepHook | None) -> None:
        record = run.record
        transfer_id = record.transfer_id
        assert transfer_id is not None
        if record.funding == "done":
            run.resumed.append("funding")
            return
        # A funding may have been sent: Wise's state of the transfer decides.
        if (record.funding != "none" or run.adopted) and await self._funded_at_wise(run):
            run.resumed.append("funding")
            await self._save(run, "funded", on_step, funding="done")
            return
        await self._save(run, "funding_sent", on_step, funding="sent")
        try:
            payment = await self._wise.transfers.fund(
                record.profile_id, transfer_id, body={"type": "BALANCE"}
            )
        except APIConnectionError:  # the answer was lost (or never came): the transfer's state tells
            if await self._funded_at_wise(run):
                run.resumed.append("funding")
                await self._save(run, "funded", on_step, funding="done")
                return
            raise
        status = getattr(payment.status, "value", payment.status)
        if status != "COMPLETED":
            await self._save(run, None, None, funding="rejected")
            raise PayoutNotFundedError(
                f"transfer {transfer_id} was created but Wise did not fund it ({status}: "
                f"{payment.error_code}); call send again with key {record.key!r} to retry the funding",
                key=record.key,
                transfer_id=transfer_id,
                reason=payment.error_code or str(status),
            )
        run.payment = payment
        run.transfer = None  # read again: the answer to the create predates the funding
        await self._save(run, "funded", on_step, funding="done", payment=payment.to_dict())

    async def _funded_at_wise(self, run: _Run) -> bool:
        """True if the transfer has its money; raises if it can no longer be funded."""
        record = run.record
        assert record.transfer_id is not None
        transfer = await self._wise.transfers.get(record.transfer_id)
        run.transfer = transfer
        if transfer.status in NOT_FUNDABLE:
            raise PayoutNotFundedError(
                f"transfer {transfer.id} is {transfer.status} and was not funded by this payout",
                key=record.key,
                transfer_id=transfer.id,
                reason=transfer.status,
            )
        return transfer.status != AWAITING_FUNDS

    async def _result(self, run: _Run) -> PayoutResult:
        record = run.record
        assert record.transfer_id is not None and record.quote_id is not None
        transfer = run.transfer or await self._wise.transfers.get(record.transfer_id)
        quote = run.quote or await self._wise.quotes.get(record.profile_id, uuid.UUID(record.quote_id))
        payment = run.payment
        if payment is None and record.payment is not None:
            from wise_api.models import TransferFundResponse200

            payment = TransferFundResponse200.from_dict(record.payment)
        return PayoutResult(
            key=record.key,
            customer_transaction_id=record.customer_transaction_id,
            quote=quote,
            transfer=transfer,
            payment=payment,
            resumed=tuple(dict.fromkeys(run.resumed)),
            quotes_made=record.quotes_made,
            adopted=run.adopted,
        )
