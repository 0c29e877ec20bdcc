"""FakeWise's business rules: one table, each row citing where Wise documents the rule and the error
Wise returns for it. Handlers refuse through :func:`refuse` (so the error comes from the row), and
``python -m wise_async.testing rules`` checks every row through the SDK (``_rule_checks``).

Where Wise documents a rule but not its error, ``error_documented`` is False and the row says which
answer the fake chose; where Wise's behaviour itself is unknown, ``lenient`` says what the fake does
instead of inventing a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._http import FakeResponse, Rejection, errors_response

__all__ = ["RULES", "Rule", "refuse", "rule"]

SPEC = "wise-openapi/index.yaml"
PROTOCOL = "wise-protocol.md"


@dataclass(frozen=True)
class Rule:
    """One thing Wise refuses (or guarantees), as FakeWise enforces it."""

    name: str
    operation: str
    """The operationId the rule applies to."""
    rule: str
    source: str
    """Where Wise documents it: the operationId (or guide) and its sentence."""
    status: int
    """The status Wise answers a breach with (200 for rules whose answer is a success body)."""
    code: str | None
    """``errors[0].code`` (or the funding result's ``errorCode``); None for a success answer."""
    shape: str
    """The body's shape: ``errors`` (``{errors:[{code,message,path,arguments}]}``) or what else Wise sends."""
    error_documented: bool = True
    """False: Wise documents the rule, not its error; status and code are the fake's choice."""
    lenient: str = ""
    """What the fake lets through because Wise's behaviour there is unknown."""

    def response(self, message: str, path: str | None = None) -> FakeResponse:
        return errors_response(self.status, self.code or "", message, path)


RULES: tuple[Rule, ...] = (
    Rule(
        "transfer-idempotency",
        "transferCreate",
        "a repeated customerTransactionId answers the first transfer, creating none; the same key with "
        "another body is refused",
        f"{SPEC} transferCreate: 'If your initial call to create a transfer fails (error or timeout), retry "
        "the call using the same customerTransactionId value. Subsequent retry messages are treated as "
        f"repeat messages and will not create duplicate transfers.'; {PROTOCOL} Idempotency",
        409,
        "DUPLICATE_CUSTOMER_TRANSACTION_ID",
        "errors",
        error_documented=False,
        lenient="the refusal of a reused key with another body is the fake's choice (Wise's answer is "
        "not documented); a replay answers 200 with the first transfer",
    ),
    Rule(
        "transfer-one-per-quote",
        "transferCreate",
        "a second transfer on a quote that already has one is refused",
        f"{SPEC} transferCreate, quoteUuid: 'You can only create one transfer per one quote. You cannot "
        "use same quote ID to create multiple transfers'",
        422,
        "QUOTE_ALREADY_USED",
        "errors",
        error_documented=False,
    ),
    Rule(
        "transfer-quote-owned",
        "transferCreate",
        "the quote must exist and belong to the caller",
        f"{SPEC} transferCreate, quoteUuid: 'V2 quote ID'",
        422,
        "QUOTE_NOT_FOUND",
        "errors",
        error_documented=False,
    ),
    Rule(
        "fund-insufficient-balance",
        "transferFund",
        "funding from a balance that holds less than the transfer's source amount is refused, moving "
        "nothing; the transfer waits for funds and can be funded again",
        f"{SPEC} transferFund: 'If funding from BALANCE, and your multi-currency account does not have the "
        'required funds to complete the action, then this call will fail with an "insufficient funds" '
        "error. Once funds are added and available, you must call this endpoint again.' (example "
        "insufficient-funds)",
        200,
        "transfer.insufficient_funds",
        "funding result {type: BALANCE, status: REJECTED, errorCode}",
    ),
    Rule(
        "fund-moves-balance-once",
        "transferFund",
        "funding debits the balance once; funding the transfer again answers the same result and "
        "moves nothing",
        f"{SPEC} transferFund: 'Upon calling the endpoint, Wise will begin the processing of the "
        "transfer'; the brief's 'no money moves twice'",
        200,
        None,
        "funding result {type: BALANCE, status: COMPLETED, errorCode: null}",
        error_documented=False,
        lenient="Wise's answer to a second funding call is not documented; the fake repeats the first result",
    ),
    Rule(
        "fund-only-waiting",
        "transferFund",
        "only a transfer waiting for its payment (incoming_payment_waiting) can be funded (e.g. not a "
        "cancelled one)",
        f"{SPEC} transferFund: 'This API call is the final step for executing payouts'; transfer "
        "statuses in the Tracking Transfers guide",
        409,
        "TRANSFER_NOT_FUNDABLE",
        "errors",
        error_documented=False,
    ),
    Rule(
        "simulation-fund-first",
        "simulationTransferStateChange",
        "a transfer's state can be simulated only once it is funded",
        f"{SPEC} simulationTransferStateChange: 'You need to fund the transfer before calling simulation "
        "endpoints.'",
        409,
        "simulation.transfer.not.funded",
        "errors",
        error_documented=False,
    ),
    Rule(
        "simulation-transitions",
        "simulationTransferStateChange",
        "only the listed transitions: processing from incoming_payment_waiting (or the processing "
        "funding set), funds_converted from processing, outgoing_payment_sent from funds_converted, "
        "bounced_back from outgoing_payment_sent, funds_refunded from bounced_back",
        f"{SPEC} simulationTransferStateChange: 'The available state transitions are: processing — from "
        "incoming_payment_waiting; funds_converted — from processing; outgoing_payment_sent — from "
        "funds_converted; bounced_back — from outgoing_payment_sent; funds_refunded — from bounced_back'",
        409,
        "simulation.transition.not.allowed",
        "errors",
        error_documented=False,
    ),
    Rule(
        "simulation-processing-required",
        "simulationTransferStateChange",
        "funds_converted needs the processing simulation first, even after funding set processing",
        f"{SPEC} simulationTransferStateChange: 'Calling the processing endpoint is required even after "
        "the funding call has changed the transfer state to processing automatically.'",
        409,
        "simulation.transition.not.allowed",
        "errors",
        error_documented=False,
    ),
    Rule(
        "simulation-status-enum",
        "simulationTransferStateChange",
        "a status outside processing, funds_converted, outgoing_payment_sent, bounced_back, "
        "funds_refunded is refused",
        f"{SPEC} simulationTransferStateChange, parameter status: enum [processing, funds_converted, "
        "outgoing_payment_sent, bounced_back, funds_refunded]",
        400,
        "NOT_VALID",
        "errors",
        error_documented=False,
    ),
    Rule(
        "simulation-answers-the-transfer",
        "simulationTransferStateChange",
        "the answer is the caller's transfer in its new state (and transferGet agrees)",
        f"{SPEC} simulationTransferStateChange, 200: 'Transfer with updated status.'",
        200,
        None,
        "the transfer",
    ),
    Rule(
        "cancel-not-after-conversion",
        "transferCancel",
        "a transfer in funds_converted or a later state (or already cancelled) cannot be cancelled",
        f"{SPEC} transferCancel: 'The transfer is not in funds_converted or later state. ... If the transfer "
        "does not meet these criteria, the API will return a 409 Conflict error with the code "
        "transfer.cancellation.not.allowed.'",
        409,
        "transfer.cancellation.not.allowed",
        "errors",
        lenient="refunding a cancelled funded transfer to its balance is the fake's reading (Wise's guide "
        "does not say when the money returns)",
    ),
    Rule(
        "topup-currency-of-balance",
        "simulationBalanceTopup",
        "a top-up must be in the balance's currency; it credits that balance and answers balancesAfter",
        f"{SPEC} simulationBalanceTopup, currency: 'Must be the same currency as the balance account.'",
        422,
        "CURRENCY_MISMATCH",
        "errors",
        error_documented=False,
        lenient="a balanceId the fake does not know tops up the profile's balance in that currency "
        "(Wise's answer for an unknown balance is not documented)",
    ),
    Rule(
        "verification-owned-profile",
        "simulationVerification",
        "verifying a profile the caller does not own is refused; an owned one becomes PASSED",
        f'{SPEC} simulationVerification: "Changes a specific profile\'s verification state to PASSED."',
        404,
        "NOT_FOUND",
        "errors",
        error_documented=False,
    ),
    Rule(
        "test-notification-queued",
        "webhookApplicationSubscriptionTest",
        "a test notification is queued for the application subscription, in its event type and version, "
        "with X-Test-Notification: true; the answer holds its delivery id",
        f"{SPEC} webhookApplicationSubscriptionTest: 'The API returns the delivery IDs of the notifications "
        "that have been successfully queued for sending'; 'a \"test notification\" flag set to true'",
        200,
        None,
        "[{delivery_id, created_at}]",
        lenient="the data is the spec's sample for the event (Wise sends ids of zero and random UUIDs)",
    ),
    Rule(
        "subscription-request",
        "webhookProfileSubscriptionCreate",
        "a subscription needs name, trigger_on, delivery.version and delivery.url",
        f"{SPEC} webhookProfileSubscriptionCreate, schema subscription-request: required [name, "
        "trigger_on, delivery]; delivery required [version, url]",
        400,
        "NOT_VALID",
        "errors",
        error_documented=False,
        lenient="any trigger_on and version are accepted (Wise's list of event types is longer than the "
        "spec's); deliveries go out only for transfers#state-change",
    ),
)

_BY_NAME = {entry.name: entry for entry in RULES}


def rule(name: str) -> Rule:
    return _BY_NAME[name]


def refuse(name: str, message: str, path: str | None = None) -> Rejection:
    """The rejection the table prescribes for breaking rule ``name``."""
    return Rejection(_BY_NAME[name].response(message, path))
