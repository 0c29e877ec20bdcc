"""``GET /_fake/state``: what a FakeWise holds, as JSON, for tests in another process than the fake.

Not a Wise route (Wise has no ``/_fake``); not recorded in ``fake.requests``, needs no token. Sections:
``transfers`` (each with its status ``history``), ``balances``, ``subscriptions``, ``calls`` (every
request routed to an operation) and ``deliveries`` (every webhook the fake owes, with its attempts);
``?only=transfers,deliveries`` limits the answer to some.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._clock import format_iso
from ._http import FakeRequest, FakeResponse, errors_response, json_response
from ._store import public
from ._webhooks import OutgoingWebhook

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["PREFIX", "inspect"]

PREFIX = "/_fake/"


def _transfers(fake: FakeWise) -> list[dict[str, Any]]:
    shown = []
    for record in fake.transfers.records():
        history = [
            {"at": format_iso(at), "from": before, "to": after}
            for at, before, after in record.get("_history", [])
        ]
        shown.append({**public(record), "profileId": record.get("_profile_id"), "history": history})
    return shown


def _balances(fake: FakeWise) -> list[dict[str, Any]]:
    return [
        {
            "profileId": profile_id,
            "currency": currency,
            "balanceId": fake.balance_id(profile_id, currency),
            "value": str(value),
        }
        for (profile_id, currency), value in fake.balances.items()
    ]


def _calls(fake: FakeWise) -> list[dict[str, Any]]:
    return [
        {
            "method": r.method,
            "path": r.path,
            "operationId": r.operation_id,
            "status": r.status,
            "at": format_iso(r.at),
        }
        for r in fake.requests
    ]


def _subscriptions(fake: FakeWise) -> list[dict[str, Any]]:
    return fake.subscriptions.values()


def _deliveries(fake: FakeWise) -> list[dict[str, Any]]:
    outbox: list[OutgoingWebhook] = fake.webhooks.outbox
    return [item.summary() for item in outbox]


SECTIONS: dict[str, Callable[[FakeWise], list[dict[str, Any]]]] = {
    "transfers": _transfers,
    "balances": _balances,
    "subscriptions": _subscriptions,
    "calls": _calls,
    "deliveries": _deliveries,
}


def inspect(fake: FakeWise, request: FakeRequest) -> FakeResponse:
    if request.method != "GET" or request.path != PREFIX + "state":
        return errors_response(404, "NOT_FOUND", f"FakeWise inspects at GET {PREFIX}state only.")
    wanted = [
        name.strip() for name in (request.param("only") or ",".join(SECTIONS)).split(",") if name.strip()
    ]
    unknown = [name for name in wanted if name not in SECTIONS]
    if unknown:
        return errors_response(
            400, "NOT_VALID", f"No section {unknown[0]!r}; there are {', '.join(SECTIONS)}.", "only"
        )
    return json_response(200, {name: SECTIONS[name](fake) for name in wanted})
