"""The sandbox's simulation endpoints, stateful: transfer state changes (the spec's state machine),
balance top-ups, and profile verification."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from ._http import FakeResponse, Rejection, empty_response, errors_response, json_response
from ._routes_profiles import owned_profile
from ._routes_quotes import money
from ._routes_transfers import owned_transfer
from ._routing import Call, route
from ._rules import refuse
from ._store import BalanceMovement, public
from ._transfer_states import SIMULATED_FROM, change_status

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["ROUTES"]


@route("GET", "/v1/simulation/transfers/{transferId}/{status}", "simulationTransferStateChange", "user")
def transfer_state_change(fake: FakeWise, call: Call) -> FakeResponse:
    status = call.params["status"]
    if status not in SIMULATED_FROM:
        raise refuse(
            "simulation-status-enum",
            f"status must be one of {', '.join(SIMULATED_FROM)}, not {status!r}.",
            "status",
        )
    transfer = owned_transfer(fake, call, call.int_param("transferId"))
    current = transfer["status"]
    if transfer["_payment"] is None:
        raise refuse(
            "simulation-fund-first",
            f"Transfer {transfer['id']} is not funded; fund it before simulating its state.",
            "transferId",
        )
    if current not in SIMULATED_FROM[status]:
        raise refuse(
            "simulation-transitions",
            f"Transfer {transfer['id']} is {current}; {status} can be simulated only from "
            f"{' or '.join(sorted(SIMULATED_FROM[status]))}.",
            "status",
        )
    if status == "funds_converted" and not transfer.get("_simulated_processing"):
        raise refuse(
            "simulation-processing-required",
            f"Call the processing simulation for transfer {transfer['id']} first.",
            "status",
        )
    if status == "processing":
        transfer["_simulated_processing"] = True
    change_status(fake, transfer, status)
    return json_response(200, public(transfer))


@route("POST", "/v1/simulation/balance/topup", "simulationBalanceTopup", "user")
def balance_topup(fake: FakeWise, call: Call) -> FakeResponse:
    body = call.request.json_object()
    for name in ("profileId", "balanceId", "currency", "amount"):
        if body.get(name) is None:
            raise Rejection(errors_response(400, "NOT_VALID", f"{name} is required.", name))
    profile_id, balance_id = body["profileId"], body["balanceId"]
    if not isinstance(profile_id, int) or not isinstance(balance_id, int):
        raise Rejection(errors_response(400, "NOT_VALID", "profileId and balanceId must be integers."))
    profile = owned_profile(fake, call, profile_id)
    currency = str(body["currency"])
    try:
        amount = money(Decimal(str(body["amount"])))
    except InvalidOperation:
        raise Rejection(errors_response(400, "NOT_VALID", "amount must be a number.", "amount")) from None
    if amount <= 0:
        raise Rejection(errors_response(400, "NOT_VALID", "amount must be positive.", "amount"))
    known = fake.balance_of_id(balance_id)
    if known is not None and known[0] != profile["id"]:
        raise Rejection(errors_response(404, "NOT_FOUND", f"Balance {balance_id} not found.", "balanceId"))
    if known is not None and known[1] != currency:
        raise refuse(
            "topup-currency-of-balance",
            f"Balance {balance_id} holds {known[1]}, not {currency}.",
            "currency",
        )
    key = (profile["id"], currency)
    after = fake.balances.get(key, Decimal(0)) + amount
    fake.balances[key] = after
    fake.balance_movements.append(
        BalanceMovement(key[0], currency, amount, after, "TOP_UP", None, fake.clock.now())
    )
    answer = {
        "transactionId": fake._new_id("balance_transaction"),
        "state": "COMPLETED",
        "balancesAfter": [{"id": fake.balance_id(*key), "value": float(after), "currency": currency}],
    }
    return json_response(200, answer)


def _verify(fake: FakeWise, profile_id: int) -> None:
    record = fake.profiles.record(profile_id)
    if record is not None:
        record["_verification"] = "PASSED"


@route("POST", "/v1/simulation/profiles/{profileId}/verifications", "simulationVerification", "user")
def verification(fake: FakeWise, call: Call) -> FakeResponse:
    profile_id = call.int_param("profileId")
    record = fake.profiles.record(profile_id)
    if record is None or record["userId"] != call.user_id:
        raise refuse("verification-owned-profile", f"Profile {profile_id} not found.", "profileId")
    _verify(fake, profile_id)
    return empty_response(200)


@route("POST", "/v1/simulation/verify-profile", "simulationVerifyProfile", "user")
def verify_profile(fake: FakeWise, call: Call) -> FakeResponse:
    for profile in fake.profiles.records(lambda p: p["userId"] == call.user_id):
        _verify(fake, profile["id"])
    return empty_response(200)


ROUTES = [transfer_state_change, balance_topup, verification, verify_profile]
