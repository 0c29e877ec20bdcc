"""Waiting for a transfer: webhook events first, polling as the fallback, never a state moved back.

The application feeds the verified ``transfers#state-change`` deliveries it receives into a
:class:`TransferStateHub` (``wise.transfer_states.hub.publish(event)``, e.g. from its FastAPI webhook
route); ``await wise.transfer_states.wait_for_transfer(transfer_id, until="outgoing_payment_sent")``
returns as soon as an event (or a poll) shows the transfer there, and raises
:class:`TransferFailedError` at a failure state (cancelled, funds_refunded, bounced_back,
charged_back). Without events it polls ``transfers.get`` with a bounded, jittered backoff
(:class:`PollingPolicy`): 5, 10, 20, 30, 30 … seconds, each stretched by up to 25 %.

Events are ordered by their ``occurred_at`` (a poll's answer by the time it was read): an older event
arriving late — Wise does not promise delivery order — never moves a transfer back, and neither does a
poll that reads a state earlier in the lifecycle than one already known (a lagging read). Cancelling a wait
(a timeout around it, a cancelled task) leaves no task behind.

The hub is in-process and belongs to one event loop: publish from the loop the waiters run in.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

import anyio

from ._exceptions import InvalidRequestError, WiseError

if TYPE_CHECKING:
    from ._client import WiseClient
    from .webhooks import WebhookEvent

__all__ = [
    "FAILURE_STATES",
    "TRANSFER_STATES",
    "PollingPolicy",
    "TransferFailedError",
    "TransferState",
    "TransferStateHub",
    "TransferStates",
    "TransferStatus",
    "TransferWaitTimeoutError",
]

STATE_CHANGE_EVENT = "transfers#state-change"
TransferStatus = Literal[
    "incoming_payment_waiting",
    "waiting_recipient_input_to_proceed",
    "processing",
    "funds_converted",
    "outgoing_payment_sent",
    "bounced_back",
    "funds_refunded",
    "charged_back",
    "cancelled",
]
"""The transfer states Wise documents; ``until=`` takes these, so a typo is caught before any wait."""
TRANSFER_STATES: frozenset[str] = frozenset(get_args(TransferStatus))
HAPPY_PATH = ("incoming_payment_waiting", "processing", "funds_converted", "outgoing_payment_sent")
FAILURE_STATES = frozenset({"cancelled", "funds_refunded", "bounced_back", "charged_back"})
# Tie-break for events stamped with the same instant: later in the lifecycle wins.
_RANK = {
    **{state: rank for rank, state in enumerate(HAPPY_PATH)},
    "waiting_recipient_input_to_proceed": 1,
    "bounced_back": 4,
    "funds_refunded": 5,
    "charged_back": 5,
    "cancelled": 5,
}


class TransferFailedError(WiseError):
    """The transfer reached a failure state (``state``) instead of the one waited for."""

    def __init__(self, transfer_id: int, state: str) -> None:
        super().__init__(f"transfer {transfer_id} is {state}")
        self.transfer_id = transfer_id
        self.state = state


class TransferWaitTimeoutError(WiseError, TimeoutError):
    """The wait's ``timeout`` passed first; ``last_state`` is the newest state known (None: none)."""

    def __init__(self, transfer_id: int, until: Iterable[str], last_state: str | None) -> None:
        super().__init__(
            f"transfer {transfer_id} did not reach {'/'.join(sorted(until))} in time "
            f"(last seen: {last_state})"
        )
        self.transfer_id = transfer_id
        self.last_state = last_state


@dataclass(frozen=True)
class TransferState:
    """One observation of a transfer: its state, when it happened (epoch seconds), and who said so."""

    transfer_id: int
    state: str
    occurred_at: float
    source: Literal["webhook", "poll"] = "webhook"

    def newer_than(self, other: TransferState) -> bool:
        """Events are ordered by when they happened; a poll (a read that may lag) never goes back."""
        rank, other_rank = _RANK.get(self.state, 0), _RANK.get(other.state, 0)
        if self.source == "poll" and rank < other_rank:
            return False
        return (self.occurred_at, rank) > (other.occurred_at, other_rank)


def state_from_event(event: WebhookEvent) -> TransferState | None:
    """The observation a ``transfers#state-change`` delivery carries (None for other events)."""
    from .webhooks import _parse_datetime

    if event.event_type != STATE_CHANGE_EVENT:
        return None
    data = event.data
    resource, state, occurred = data.get("resource"), data.get("current_state"), data.get("occurred_at")
    transfer_id = resource.get("id") if isinstance(resource, dict) else None
    if not isinstance(transfer_id, int) or not isinstance(state, str) or not isinstance(occurred, str):
        return None
    return TransferState(transfer_id, state, _parse_datetime(occurred).timestamp(), "webhook")


class TransferStateHub:
    """The newest known state per transfer, and the tasks waiting for a change."""

    def __init__(self) -> None:
        self._latest: dict[int, TransferState] = {}
        self._waiters: dict[int, set[anyio.Event]] = {}

    def __repr__(self) -> str:
        return f"TransferStateHub(transfers={len(self._latest)})"

    def state_of(self, transfer_id: int) -> TransferState | None:
        return self._latest.get(transfer_id)

    def publish(self, observation: WebhookEvent | TransferState) -> bool:
        """Record a verified delivery (or a state read elsewhere); True if it is the newest state known.

        Deliveries of other event types are ignored (False), as are observations older than the one held.
        """
        state = observation if isinstance(observation, TransferState) else state_from_event(observation)
        if state is None:
            return False
        current = self._latest.get(state.transfer_id)
        if current is not None and not state.newer_than(current):
            return False
        self._latest[state.transfer_id] = state
        for event in self._waiters.pop(state.transfer_id, set()):
            event.set()
        return True

    def _changed(self, transfer_id: int) -> anyio.Event:
        event = anyio.Event()
        self._waiters.setdefault(transfer_id, set()).add(event)
        return event

    def _forget(self, transfer_id: int, event: anyio.Event) -> None:
        waiting = self._waiters.get(transfer_id)
        if waiting is not None:
            waiting.discard(event)
            if not waiting:
                del self._waiters[transfer_id]


@dataclass(frozen=True)
class PollingPolicy:
    """Delays between polls: ``first_delay`` × ``multiplier``ⁿ, capped at ``max_delay``, each stretched by
    a random factor in [1, 1 + ``jitter``] (so pollers spread out and never poll sooner than the curve).
    The first poll is immediate unless the hub already knows the transfer."""

    first_delay: float = 5.0
    multiplier: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.25

    def delays(self, rng: random.Random) -> Iterable[float]:
        delay = self.first_delay
        while True:
            yield min(delay, self.max_delay) * (1 + rng.uniform(0, self.jitter))
            delay *= self.multiplier


def _reached(state: str, targets: frozenset[str]) -> bool:
    if state in targets:
        return True
    rank = HAPPY_PATH.index(state) if state in HAPPY_PATH else -1
    return any(target in HAPPY_PATH and rank >= HAPPY_PATH.index(target) for target in targets)


class TransferStates:
    """``wise.transfer_states``: the client's :class:`TransferStateHub` and ``wait_for_transfer``.

    ``sleep`` and ``clock`` (default: ``anyio.sleep`` and the client's clock) are the seams a test with a
    fake clock replaces.
    """

    def __init__(
        self,
        client: WiseClient,
        *,
        hub: TransferStateHub | None = None,
        polling: PollingPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._wise = client
        self.hub = hub if hub is not None else TransferStateHub()
        self.polling = polling or PollingPolicy()
        self._sleep = sleep
        self._clock = clock or client._clock
        self._rng = rng or random.Random()
        self.polls = 0
        """``transfers.get`` calls made by waits so far (for observability and tests)."""

    def __repr__(self) -> str:
        return f"TransferStates(hub={self.hub!r}, polls={self.polls})"

    def publish(self, observation: WebhookEvent | TransferState) -> bool:
        """``hub.publish``: feed a verified delivery in."""
        return self.hub.publish(observation)

    async def poll(self, transfer_id: int) -> TransferState | None:
        """Read the transfer's state from Wise and publish it; the newest known state."""
        read_at = self._clock()
        transfer = await self._wise.transfers.get(transfer_id)
        self.polls += 1
        if transfer.status is not None:
            self.hub.publish(TransferState(transfer_id, transfer.status, read_at, "poll"))
        return self.hub.state_of(transfer_id)

    async def wait_for_transfer(
        self,
        transfer_id: int,
        *,
        until: TransferStatus | Iterable[TransferStatus] = "outgoing_payment_sent",
        timeout: float | None = 3600.0,
    ) -> TransferState:
        """Return once the transfer is at ``until`` (or further along the happy path); raise
        :class:`TransferFailedError` at a failure state, :class:`TransferWaitTimeoutError` after
        ``timeout`` seconds (None: wait for ever)."""
        targets = frozenset([until] if isinstance(until, str) else until)
        if not targets:
            raise InvalidRequestError("until= names no state")
        unknown = sorted(str(state)[:40] for state in targets - TRANSFER_STATES)
        if unknown:  # it would never be reached: the wait would last until its timeout
            raise InvalidRequestError(f"until= names no transfer state Wise has: {unknown}")
        deadline = None if timeout is None else self._clock() + timeout
        delays = iter(self.polling.delays(self._rng))
        known = self.hub.state_of(transfer_id)
        if known is None:
            known = await self.poll(transfer_id)
        while True:
            if known is not None:
                if known.state in FAILURE_STATES and known.state not in targets:
                    raise TransferFailedError(transfer_id, known.state)
                if _reached(known.state, targets):
                    return known
            delay = next(delays)
            if deadline is not None:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    raise TransferWaitTimeoutError(transfer_id, targets, known.state if known else None)
                delay = min(delay, remaining)
            if await self._changed_within(transfer_id, delay):
                known = self.hub.state_of(transfer_id)
            elif deadline is None or self._clock() < deadline:
                known = await self.poll(transfer_id)

    async def _changed_within(self, transfer_id: int, delay: float) -> bool:
        """Wait for a newer state in the hub or for ``delay`` seconds; True if the hub changed."""
        changed = self.hub._changed(transfer_id)
        woke = False
        try:
            async with anyio.create_task_group() as tasks:

                async def timer() -> None:
                    await self._sleep(delay)
                    tasks.cancel_scope.cancel()

                async def watch() -> None:
                    nonlocal woke
                    await changed.wait()
                    woke = True
                    tasks.cancel_scope.cancel()

                tasks.start_soon(timer)
                tasks.start_soon(watch)
        finally:
            self.hub._forget(transfer_id, changed)
        return woke
