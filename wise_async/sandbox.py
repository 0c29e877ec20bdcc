"""Driving a sandbox transfer through Wise's simulation endpoints, step by step, never in production.

``await wise.sandbox.advance_transfer(transfer_id, to="outgoing_payment_sent")`` reads the transfer's
state and calls ``simulationTransferStateChange`` for each transition from there to ``to``, in the
order the spec allows (processing → funds_converted → outgoing_payment_sent → bounced_back →
funds_refunded), ``spacing`` seconds apart: Wise answers each call at once but applies it
asynchronously and asks for at least 5 seconds between calls. Pointed at production, it raises
:class:`SandboxOnlyError` before sending anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal, get_args

import anyio
import httpx

from ._exceptions import InvalidRequestError

if TYPE_CHECKING:
    from wise_api.models import OriginatorTransfer, StandardTransfer

    from ._client import WiseClient

__all__ = ["SIMULATION_PATH", "Sandbox", "SandboxOnlyError", "SimulatedState"]

SimulatedState = Literal[
    "processing", "funds_converted", "outgoing_payment_sent", "bounced_back", "funds_refunded"
]
SIMULATION_PATH: tuple[SimulatedState, ...] = get_args(SimulatedState)
"""The spec's simulated transitions, each allowed only from the one before it."""
SPEC_SPACING = 5.0
PRODUCTION_HOSTS = frozenset({"api.wise.com", "api.transferwise.com"})


class SandboxOnlyError(InvalidRequestError):
    """A simulation call was asked of a client that points at Wise's production API."""


class Sandbox:
    """``wise.sandbox``: simulation helpers for the sandbox (and FakeWise)."""

    def __init__(
        self,
        client: WiseClient,
        *,
        spacing: float = SPEC_SPACING,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self._wise = client
        self.spacing = spacing
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"Sandbox(spacing={self.spacing})"

    def _refuse_production(self) -> None:
        environment = self._wise.environment
        if environment.is_production or httpx.URL(environment.base_url).host in PRODUCTION_HOSTS:
            raise SandboxOnlyError(
                f"refusing to simulate on {environment.base_url}: simulation endpoints are for the sandbox"
            )

    async def advance_transfer(
        self,
        transfer_id: int,
        *,
        to: SimulatedState = "outgoing_payment_sent",
        spacing: float | None = None,
    ) -> StandardTransfer | OriginatorTransfer:
        """Walk ``transfer_id`` from its current state to ``to``; returns the transfer as Wise then shows it.

        A transfer already at ``to`` gets no simulation call (except ``processing``, which the spec
        requires even after funding moved the transfer there). ``to`` behind the current state, or
        outside the simulated path, raises :class:`~wise_async.InvalidRequestError` before any call.
        """
        self._refuse_production()
        if to not in SIMULATION_PATH:
            raise InvalidRequestError(f"to must be one of {', '.join(SIMULATION_PATH)}, not {to!r}")
        transfer = await self._wise.transfers.get(transfer_id)
        current = transfer.status or ""
        if current in ("incoming_payment_waiting", "processing"):
            start = 0
        elif current in SIMULATION_PATH:
            start = SIMULATION_PATH.index(current) + 1
        else:
            raise InvalidRequestError(
                f"transfer {transfer_id} is {current}: no simulated transition leads on"
            )
        end = SIMULATION_PATH.index(to) + 1
        if end < start:
            raise InvalidRequestError(f"transfer {transfer_id} is {current}, past {to}")
        if end == start:
            return transfer
        pause = self.spacing if spacing is None else spacing
        for number, step in enumerate(SIMULATION_PATH[start:end]):
            if number:
                await self._sleep(pause)
            await self._wise.simulation.transfer_state_change(transfer_id, step)
        return await self._wise.transfers.get(transfer_id)
