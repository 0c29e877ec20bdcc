"""The transfer state machine of Wise's sandbox (``simulationTransferStateChange``) and the one place a
transfer's status changes, so every change is recorded and announced by webhook."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._store import Record

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["CANCELLABLE", "SIMULATED_FROM", "change_status"]

SIMULATED_FROM: dict[str, frozenset[str]] = {
    "processing": frozenset({"incoming_payment_waiting", "processing"}),
    "funds_converted": frozenset({"processing"}),
    "outgoing_payment_sent": frozenset({"funds_converted"}),
    "bounced_back": frozenset({"outgoing_payment_sent"}),
    "funds_refunded": frozenset({"bounced_back"}),
}
"""Target status → the statuses the simulation may move a transfer there from (the spec's list; a
funded transfer is already ``processing``, and the spec still asks for the ``processing`` call)."""

CANCELLABLE = frozenset({"incoming_payment_waiting", "waiting_recipient_input_to_proceed", "processing"})
"""transferCancel: 'The transfer is not in funds_converted or later state.'"""


def change_status(fake: FakeWise, transfer: Record, status: str) -> None:
    """Move ``transfer`` to ``status``: history, then a ``transfers#state-change`` per subscription.

    Setting the status it already has changes nothing and announces nothing.
    """
    previous = transfer["status"]
    if previous == status:
        return
    transfer["status"] = status
    transfer.setdefault("_history", []).append((fake.clock.now(), previous, status))
    fake.webhooks.transfer_changed(transfer, previous)
