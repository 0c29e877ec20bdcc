"""One check per row of the rule table, made through the SDK as a user would break the rule.

``python -m wise_async.testing rules`` runs them in-process; ``tests/testing/test_fake_rules.py`` runs
the same checks against FakeWise served by uvicorn on a loopback socket. A check raises
:class:`RuleBroken` when the fake lets the breach through or answers it otherwise than its row says.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from .._client import WiseClient
from .._exceptions import APIStatusError, InvalidRequestError
from .._sca import PartnerScaSolver
from ._fake import FakeWise
from ._rules import RULES, Rule, rule

if TYPE_CHECKING:
    from wise_api.request_dicts import (
        SimulationBalanceTopupBodyDict,
        SubscriptionRequestDeliveryDict,
        SubscriptionRequestDict,
        TransferCreateBodyDict,
    )

__all__ = ["CHECKS", "RuleBroken", "RuleWorld", "check_rule", "check_rules", "in_process", "sdk_options"]

IBAN = "DE89370400440532013000"


class RuleBroken(Exception):
    """The fake did not answer a breach of a rule the way the rule table says."""


@dataclass
class RuleWorld:
    """A fresh fake and an SDK client on it (in-process or over a socket)."""

    fake: FakeWise
    wise: WiseClient
    connect: Connect
    """Another SDK client on the same fake, with other credentials."""

    @property
    def profile_id(self) -> int:
        return self.fake.personal_profile_id

    async def quote(self, amount: str = "100") -> Any:
        return await self.wise.quotes.create(
            self.profile_id,
            body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": Decimal(amount)},
        )

    async def recipient(self) -> Any:
        return await self.wise.recipients.create(
            body={
                "currency": "EUR",
                "type": "iban",
                "profile": self.profile_id,
                "accountHolderName": "Grace Hopper",
                "details": {"legalType": "PRIVATE", "iban": IBAN},
            }
        )

    async def transfer(self, quote: Any = None, key: uuid.UUID | None = None) -> Any:
        quote = quote or await self.quote()
        recipient = await self.recipient()
        return await self.wise.transfers.create(
            body={
                "targetAccount": recipient.id,
                "quoteUuid": str(quote.id),
                "customerTransactionId": str(key or uuid.uuid4()),
            }
        )

    async def fund(self, transfer_id: int) -> Any:
        return await self.wise.transfers.fund(self.profile_id, transfer_id, body={"type": "BALANCE"})

    async def funded_transfer(self) -> Any:
        transfer = await self.transfer()
        await self.fund(transfer.id)
        return transfer

    async def simulate(self, transfer_id: int, *statuses: str) -> Any:
        answer = None
        for status in statuses:
            answer = await self.wise.simulation.transfer_state_change(transfer_id, status)  # type: ignore[arg-type]
        return answer


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise RuleBroken(message)


async def refused(name: str, call: Awaitable[Any]) -> APIStatusError:
    """Await ``call``; it must fail with rule ``name``'s status and code."""
    expected = rule(name)
    try:
        await call
    except APIStatusError as error:
        codes = [detail.code for detail in error.errors]
        _expect(
            error.status_code == expected.status and expected.code in codes,
            f"{name}: answered {error.status_code} {codes}, the table says {expected.status} {expected.code}",
        )
        return error
    raise RuleBroken(f"{name}: the breach was accepted")


# ----------------------------------------------------------------------------- one check per rule


async def _transfer_idempotency(world: RuleWorld) -> None:
    quote, key = await world.quote(), uuid.uuid4()
    recipient = await world.recipient()
    body: TransferCreateBodyDict = {
        "targetAccount": recipient.id,
        "quoteUuid": str(quote.id),
        "customerTransactionId": str(key),
    }
    first = await world.wise.transfers.create(body=body)
    again = await world.wise.transfers.create(body=body)
    _expect(again.id == first.id and len(world.fake.transfers) == 1, "a replay created another transfer")
    await refused(
        "transfer-idempotency",
        world.wise.transfers.create(body={**body, "details": {"reference": "another"}}),
    )


async def _transfer_one_per_quote(world: RuleWorld) -> None:
    quote = await world.quote()
    await world.transfer(quote)
    await refused("transfer-one-per-quote", world.transfer(quote))
    _expect(len(world.fake.transfers) == 1, "the refused transfer exists")


async def _transfer_quote_owned(world: RuleWorld) -> None:
    recipient = await world.recipient()
    body: TransferCreateBodyDict = {
        "targetAccount": recipient.id,
        "quoteUuid": str(uuid.uuid4()),
        "customerTransactionId": str(uuid.uuid4()),
    }
    await refused("transfer-quote-owned", world.wise.transfers.create(body=body))


async def _fund_insufficient_balance(world: RuleWorld) -> None:
    transfer = await world.transfer()
    world.fake.set_balance(world.profile_id, "GBP", "5")
    result = await world.fund(transfer.id)
    expected = rule("fund-insufficient-balance")
    _expect(
        (str(result.status.value), result.error_code) == ("REJECTED", expected.code),
        f"funding answered {result.status} {result.error_code}",
    )
    _expect(world.fake.balance_movements == [], "a refused funding moved money")
    _expect((await world.wise.transfers.get(transfer.id)).status == "incoming_payment_waiting", "state moved")
    balance_id = world.fake.balance_id(world.profile_id, "GBP")
    await world.wise.simulation.balance_topup(
        body={"profileId": world.profile_id, "balanceId": balance_id, "currency": "GBP", "amount": 500}
    )
    _expect(str((await world.fund(transfer.id)).status.value) == "COMPLETED", "funding after a top-up failed")


async def _fund_moves_balance_once(world: RuleWorld) -> None:
    transfer = await world.transfer()
    before = world.fake.balance(world.profile_id, "GBP")
    first, again = await world.fund(transfer.id), await world.fund(transfer.id)
    debits = [m for m in world.fake.balance_movements if m.transfer_id == transfer.id]
    _expect(first == again and len(debits) == 1, f"funding twice moved money {len(debits)} times")
    _expect(
        world.fake.balance(world.profile_id, "GBP") == before - Decimal(str(transfer.source_value)),
        "the balance did not move by the transfer's source amount",
    )


async def _fund_only_waiting(world: RuleWorld) -> None:
    transfer = await world.transfer()
    await world.wise.transfers.cancel(transfer.id)
    await refused("fund-only-waiting", world.fund(transfer.id))


async def _simulation_fund_first(world: RuleWorld) -> None:
    transfer = await world.transfer()
    await refused("simulation-fund-first", world.simulate(transfer.id, "processing"))
    _expect((await world.wise.transfers.get(transfer.id)).status == "incoming_payment_waiting", "state moved")


async def _simulation_transitions(world: RuleWorld) -> None:
    transfer = await world.funded_transfer()
    await world.simulate(transfer.id, "processing")
    await refused("simulation-transitions", world.simulate(transfer.id, "outgoing_payment_sent"))
    await world.simulate(transfer.id, "funds_converted", "outgoing_payment_sent")
    await refused("simulation-transitions", world.simulate(transfer.id, "funds_converted"))
    await refused("simulation-transitions", world.simulate(transfer.id, "funds_refunded"))
    await world.simulate(transfer.id, "bounced_back", "funds_refunded")
    _expect((await world.wise.transfers.get(transfer.id)).status == "funds_refunded", "the chain did not end")


async def _simulation_processing_required(world: RuleWorld) -> None:
    transfer = await world.funded_transfer()
    _expect((await world.wise.transfers.get(transfer.id)).status == "processing", "funding did not process")
    await refused("simulation-processing-required", world.simulate(transfer.id, "funds_converted"))
    await world.simulate(transfer.id, "processing", "funds_converted")


async def _simulation_status_enum(world: RuleWorld) -> None:
    transfer = await world.funded_transfer()
    await refused("simulation-status-enum", world.simulate(transfer.id, "cancelled"))


async def _simulation_answers_the_transfer(world: RuleWorld) -> None:
    transfer = await world.funded_transfer()
    for status in ("processing", "funds_converted", "outgoing_payment_sent"):
        answer = await world.simulate(transfer.id, status)
        _expect(
            isinstance(answer, dict) and (answer.get("id"), answer.get("status")) == (transfer.id, status),
            f"the simulation answered {answer!r}",
        )
        _expect((await world.wise.transfers.get(transfer.id)).status == status, "transferGet disagrees")


async def _cancel_not_after_conversion(world: RuleWorld) -> None:
    waiting = await world.transfer()
    _expect((await world.wise.transfers.cancel(waiting.id)).status == "cancelled", "not cancelled")
    await refused("cancel-not-after-conversion", world.wise.transfers.cancel(waiting.id))
    funded = await world.funded_transfer()
    await world.simulate(funded.id, "processing", "funds_converted")
    await refused("cancel-not-after-conversion", world.wise.transfers.cancel(funded.id))
    await world.simulate(funded.id, "outgoing_payment_sent")
    await refused("cancel-not-after-conversion", world.wise.transfers.cancel(funded.id))
    _expect((await world.wise.transfers.get(funded.id)).status == "outgoing_payment_sent", "state moved")


async def _topup_currency_of_balance(world: RuleWorld) -> None:
    balance_id = world.fake.balance_id(world.profile_id, "EUR")
    before = world.fake.balance(world.profile_id, "EUR")
    body: SimulationBalanceTopupBodyDict = {
        "profileId": world.profile_id,
        "balanceId": balance_id,
        "currency": "EUR",
        "amount": 25,
    }
    answer = await world.wise.simulation.balance_topup(body=body)
    after = answer.balances_after[0] if answer.balances_after else None
    _expect(
        after is not None and Decimal(str(after.value)) == before + 25 and after.id == balance_id,
        f"the top-up answered {answer!r}",
    )
    _expect(world.fake.balance(world.profile_id, "EUR") == before + 25, "the balance did not grow")
    await refused(
        "topup-currency-of-balance", world.wise.simulation.balance_topup(body={**body, "currency": "USD"})
    )


async def _verification_owned_profile(world: RuleWorld) -> None:
    await world.wise.simulation.verification(world.profile_id)
    record = world.fake.profiles.record(world.profile_id) or {}
    _expect(record.get("_verification") == "PASSED", "the profile was not verified")
    other = world.fake.add_profile(user_id=world.fake.add_user())["id"]
    await refused("verification-owned-profile", world.wise.simulation.verification(other))


async def _subscription_request(world: RuleWorld) -> None:
    body: dict[str, Any] = {"name": "payouts", "trigger_on": "transfers#state-change"}
    body["delivery"] = {"version": "4.0.0"}
    try:  # the SDK refuses it before sending; other clients of a served fake meet the fake's refusal
        await world.wise.webhooks.profile_subscription_create(world.profile_id, body=cast(Any, body))
    except InvalidRequestError:
        pass
    else:
        raise RuleBroken("subscription-request: the SDK sent a subscription without delivery.url")
    path = f"/v3/profiles/{world.profile_id}/subscriptions"
    answer = await world.wise.http_client.post(path, json=body)
    expected = rule("subscription-request")
    codes = [error.get("code") for error in answer.json().get("errors", [])]
    _expect(
        answer.status_code == expected.status and expected.code in codes,
        f"subscription-request: answered {answer.status_code} {codes}",
    )
    body["delivery"]["url"] = "http://127.0.0.1:9/wise"
    created = await world.wise.webhooks.profile_subscription_create(world.profile_id, body=cast(Any, body))
    listed = await world.wise.webhooks.profile_subscription_list(world.profile_id)
    _expect([s.id for s in listed] == [created.id], "the subscription is not listed")


async def _test_notification_queued(world: RuleWorld) -> None:
    world.fake.add_client("partner", "partner-secret")
    hook: SubscriptionRequestDeliveryDict = {"version": "4.0.0", "url": "http://127.0.0.1:9/wise"}
    body: SubscriptionRequestDict = {"name": "all", "trigger_on": "transfers#state-change", "delivery": hook}
    async with world.connect(client_id="partner", client_secret="partner-secret") as app:
        subscription = await app.webhooks.application_subscription_create("partner", body=body)
        queued = await app.webhooks.application_subscription_test("partner", uuid.UUID(str(subscription.id)))
    (item,) = world.fake.webhooks.outbox
    _expect(
        [str(getattr(q, "delivery_id", "")) for q in queued] == [item.delivery.delivery_id],
        f"the answer {queued!r} does not name the queued delivery",
    )
    _expect(item.delivery.headers.get("X-Test-Notification") == "true", "not flagged as a test")
    _expect(item.delivery.json()["subscription_id"] == str(subscription.id), "another subscription's")


CHECKS: dict[str, Callable[[RuleWorld], Awaitable[None]]] = {
    "transfer-idempotency": _transfer_idempotency,
    "transfer-one-per-quote": _transfer_one_per_quote,
    "transfer-quote-owned": _transfer_quote_owned,
    "fund-insufficient-balance": _fund_insufficient_balance,
    "fund-moves-balance-once": _fund_moves_balance_once,
    "fund-only-waiting": _fund_only_waiting,
    "simulation-fund-first": _simulation_fund_first,
    "simulation-transitions": _simulation_transitions,
    "simulation-processing-required": _simulation_processing_required,
    "simulation-status-enum": _simulation_status_enum,
    "simulation-answers-the-transfer": _simulation_answers_the_transfer,
    "cancel-not-after-conversion": _cancel_not_after_conversion,
    "topup-currency-of-balance": _topup_currency_of_balance,
    "verification-owned-profile": _verification_owned_profile,
    "test-notification-queued": _test_notification_queued,
    "subscription-request": _subscription_request,
}

Connect = Callable[..., WiseClient]
"""A client on the fake: ``connect(personal_token=...)``, ``connect(client_id=..., client_secret=...)``."""
Reach = Callable[[FakeWise], contextlib.AbstractAsyncContextManager[Connect]]
"""How checks reach a fake: in-process (:func:`in_process`) or served on a socket (the tests)."""


def sdk_options(fake: FakeWise) -> dict[str, Any]:
    """SCA cleared the way a user would: the PIN the fake's user has."""

    async def pin(challenge: Any) -> str:
        return "1234"

    return {"sca_handler": PartnerScaSolver(profile_id=fake.personal_profile_id, pin=pin), "max_retries": 0}


@contextlib.asynccontextmanager
async def in_process(fake: FakeWise) -> AsyncIterator[Connect]:
    def connect(**credentials: Any) -> WiseClient:
        return WiseClient(
            transport=fake.transport(),
            base_url="https://api.wise-sandbox.com",
            **sdk_options(fake),
            **credentials,
        )

    yield connect


async def check_rule(entry: Rule, reach: Reach = in_process) -> str | None:
    """None when the fake enforces ``entry`` as its row says, else why not."""
    fake = FakeWise()
    token = fake.add_personal_token()
    try:
        async with reach(fake) as connect, connect(personal_token=token) as wise:
            await CHECKS[entry.name](RuleWorld(fake, wise, connect))
    except Exception as problem:  # any way a check fails is a rule not enforced
        return f"{type(problem).__name__}: {problem}"
    return None


async def check_rules(reach: Reach = in_process) -> dict[str, str | None]:
    """Every rule of the table → None when enforced, else the problem."""
    return {entry.name: await check_rule(entry, reach) for entry in RULES}
