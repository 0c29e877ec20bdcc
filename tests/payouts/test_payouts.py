"""``wise.payouts.send``: one transfer, one funding, whatever happened to an earlier call with the key."""

from __future__ import annotations

import uuid
from decimal import Decimal

import anyio
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wise_async import InvalidRequestError
from wise_async.payouts import (
    MemoryPayoutStore,
    PayoutConflictError,
    PayoutInProgressError,
    PayoutNotFundedError,
    Payouts,
    PayoutStep,
    customer_transaction_id,
)

from .conftest import AMOUNT, Bank


class Crash(Exception):
    """Stands for the process dying at a step: the call is abandoned, the store keeps what it wrote."""


def crash_at(step: PayoutStep):  # type: ignore[no-untyped-def]
    def hook(reached: PayoutStep) -> None:
        if reached == step:
            raise Crash(step)

    return hook


async def test_a_payout_quotes_creates_and_funds_once(bank: Bank, rsa_key: rsa.RSAPrivateKey) -> None:
    async with bank.client(rsa_key) as wise:
        result = await wise.payouts.send(bank.profile_id, **bank.payout())
    assert result.transfer.status == "processing"
    assert result.payment is not None and result.payment.status == "COMPLETED"
    assert result.resumed == () and result.quotes_made == 1 and not result.adopted
    assert str(result.transfer.customer_transaction_id) == customer_transaction_id(
        bank.profile_id, "invoice-1843"
    )
    assert result.quote.source_amount == AMOUNT
    assert (len(bank.fake.transfers), bank.fundings(), bank.debited()) == (1, 1, AMOUNT)
    assert bank.fake.transfers.get(result.transfer.id)["reference"] == "Invoice 1843"  # type: ignore[index]


async def test_calling_again_after_success_sends_nothing_that_moves_money(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    async with bank.client(rsa_key) as wise:
        first = await wise.payouts.send(bank.profile_id, **bank.payout())
        bank.fake.clear_requests()
        again = await wise.payouts.send(bank.profile_id, **bank.payout())
    assert again.transfer.id == first.transfer.id
    assert again.resumed == ("quote", "transfer", "funding")
    assert {r.method for r in bank.fake.requests} == {"GET"}
    assert (len(bank.fake.transfers), bank.fundings(), bank.debited()) == (1, 1, AMOUNT)


@pytest.mark.parametrize(
    "step", ["quoted", "transfer_requested", "transfer_created", "funding_sent", "funded"]
)
async def test_a_crash_after_each_step_resumes_to_one_transfer_and_one_funding(
    bank: Bank, rsa_key: rsa.RSAPrivateKey, step: PayoutStep
) -> None:
    async with bank.client(rsa_key) as wise:
        with pytest.raises(Crash):
            await wise.payouts.send(bank.profile_id, **bank.payout(), on_step=crash_at(step))
        result = await wise.payouts.send(bank.profile_id, **bank.payout())
    creates = [r.json() for r in bank.fake.calls("transferCreate")]
    assert all(body == creates[0] for body in creates)  # resuming re-sends the first request exactly
    assert result.quotes_made == 1
    assert (len(bank.fake.transfers), bank.fundings(), bank.debited()) == (1, 1, AMOUNT)


async def test_an_expired_quote_is_requoted_with_the_same_amounts_before_any_transfer(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    async with bank.client(rsa_key) as wise:
        with pytest.raises(Crash):
            await wise.payouts.send(bank.profile_id, **bank.payout(), on_step=crash_at("quoted"))
        bank.fake.clock.advance(31 * 60)  # FakeWise quotes live 30 minutes
        result = await wise.payouts.send(bank.profile_id, **bank.payout())
    quotes = [r.json() for r in bank.fake.calls("quoteCreate")]
    assert len(quotes) == 2 and quotes[0] == quotes[1]  # same amounts, same currencies
    assert result.quotes_made == 2
    assert str(result.transfer.quote_uuid) == str(result.quote.id) != str(quotes[0].get("id"))
    assert (len(bank.fake.transfers), bank.fundings()) == (1, 1)


async def test_an_expired_quote_is_never_requoted_once_the_transfer_request_exists(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    async with bank.client(rsa_key) as wise:
        with pytest.raises(Crash):
            await wise.payouts.send(bank.profile_id, **bank.payout(), on_step=crash_at("transfer_created"))
        bank.fake.clock.advance(31 * 60)
        result = await wise.payouts.send(bank.profile_id, **bank.payout())
    assert len(bank.fake.calls("quoteCreate")) == 1 and result.quotes_made == 1
    assert (len(bank.fake.transfers), bank.fundings()) == (1, 1)


async def test_a_refused_funding_is_reported_and_funded_by_the_next_call(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    bank.fake.set_balance(bank.profile_id, "GBP", "20.00")
    async with bank.client(rsa_key) as wise:
        with pytest.raises(PayoutNotFundedError) as refused:
            await wise.payouts.send(bank.profile_id, **bank.payout())
        assert refused.value.reason == "transfer.insufficient_funds"
        assert bank.fake.transfers.get(refused.value.transfer_id)["status"] == "incoming_payment_waiting"  # type: ignore[index]
        bank.fake.set_balance(bank.profile_id, "GBP", "500.00")
        result = await wise.payouts.send(bank.profile_id, **bank.payout())
    assert result.transfer.id == refused.value.transfer_id
    assert (len(bank.fake.transfers), bank.fundings(), bank.fake.balance(bank.profile_id, "GBP")) == (
        1,
        1,
        Decimal("400.00"),
    )


async def test_a_cancelled_transfer_is_reported_not_funded(bank: Bank, rsa_key: rsa.RSAPrivateKey) -> None:
    async with bank.client(rsa_key) as wise:
        with pytest.raises(Crash):
            await wise.payouts.send(bank.profile_id, **bank.payout(), on_step=crash_at("funding_sent"))
        transfer_id = next(iter(bank.fake.transfers))
        bank.fake.set_transfer_status(transfer_id, "cancelled")
        with pytest.raises(PayoutNotFundedError, match="cancelled"):
            await wise.payouts.send(bank.profile_id, **bank.payout())
    assert bank.fundings() == 0


async def test_with_the_store_lost_the_transfer_is_found_in_wises_list(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    async with bank.client(rsa_key) as wise:
        with pytest.raises(Crash):
            await wise.payouts.send(bank.profile_id, **bank.payout(), on_step=crash_at("transfer_created"))
        result = await Payouts(wise, store=MemoryPayoutStore()).send(bank.profile_id, **bank.payout())
    assert result.adopted and "transfer" in result.resumed
    assert (len(bank.fake.transfers), bank.fundings(), bank.debited()) == (1, 1, AMOUNT)


async def test_with_the_store_lost_after_funding_nothing_is_funded_again(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    async with bank.client(rsa_key) as wise:
        await wise.payouts.send(bank.profile_id, **bank.payout())
        result = await Payouts(wise, store=MemoryPayoutStore()).send(bank.profile_id, **bank.payout())
    assert result.adopted and result.resumed == ("quote", "transfer", "funding")
    assert (len(bank.fake.transfers), bank.fundings()) == (1, 1)


async def test_a_key_names_one_payout(bank: Bank, rsa_key: rsa.RSAPrivateKey) -> None:
    async with bank.client(rsa_key) as wise:
        await wise.payouts.send(bank.profile_id, **bank.payout())
        bank.fake.clear_requests()
        with pytest.raises(PayoutConflictError):
            await wise.payouts.send(bank.profile_id, **bank.payout(source_amount=Decimal("101")))
    assert bank.fake.requests == []


@pytest.mark.parametrize(
    "overrides",
    [{"source_amount": 100.0}, {"source_amount": None}, {"target_amount": Decimal(5)}, {"key": ""}],
)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    bank: Bank, rsa_key: rsa.RSAPrivateKey, overrides: dict[str, object]
) -> None:
    async with bank.client(rsa_key) as wise:
        with pytest.raises(InvalidRequestError):
            await wise.payouts.send(bank.profile_id, **bank.payout(**overrides))
    assert bank.fake.requests == []


async def test_one_key_is_driven_by_one_caller_at_a_time(bank: Bank, rsa_key: rsa.RSAPrivateKey) -> None:
    outcomes: list[object] = []
    async with bank.client(rsa_key) as wise:

        async def send() -> None:
            try:
                outcomes.append(await wise.payouts.send(bank.profile_id, **bank.payout()))
            except PayoutInProgressError as exc:
                outcomes.append(exc)

        async with anyio.create_task_group() as tasks:
            for _ in range(5):
                tasks.start_soon(send)
    assert sum(isinstance(o, PayoutInProgressError) for o in outcomes) == 4
    assert (len(bank.fake.transfers), bank.fundings()) == (1, 1)


def test_payouts_under_trio(bank: Bank, rsa_key: rsa.RSAPrivateKey) -> None:
    async def main() -> None:
        async with bank.client(rsa_key) as wise:
            with pytest.raises(Crash):
                await wise.payouts.send(bank.profile_id, **bank.payout(), on_step=crash_at("funding_sent"))
            await wise.payouts.send(bank.profile_id, **bank.payout())

    anyio.run(main, backend="trio")
    assert (len(bank.fake.transfers), bank.fundings(), bank.debited()) == (1, 1, AMOUNT)


def test_keys_derive_stable_customer_transaction_ids() -> None:
    derived = customer_transaction_id(30000001, "invoice-1843")
    assert derived == customer_transaction_id(30000001, "invoice-1843")
    assert uuid.UUID(derived).version == 5
    assert derived != customer_transaction_id(30000002, "invoice-1843")


async def test_a_transfer_request_refused_after_its_quote_expired_is_made_again_under_a_new_id(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    """Wise refuses a transfer on an expired quote (FakeWise does not: the 422 is injected, as the code
    Wise uses for it is not documented)."""
    async with bank.client(rsa_key) as wise:
        with pytest.raises(Crash):
            await wise.payouts.send(bank.profile_id, **bank.payout(), on_step=crash_at("transfer_requested"))
        bank.fake.clock.advance(31 * 60)
        bank.fake.faults.add("status", operation="transferCreate", status=422)
        result = await wise.payouts.send(bank.profile_id, **bank.payout())
    first, second = (r.json() for r in bank.fake.calls("transferCreate"))
    assert first["customerTransactionId"] == customer_transaction_id(bank.profile_id, "invoice-1843")
    assert second["customerTransactionId"] == customer_transaction_id(bank.profile_id, "invoice-1843", 1)
    assert first["quoteUuid"] != second["quoteUuid"] == str(result.quote.id)
    quotes = [r.json() for r in bank.fake.calls("quoteCreate")]
    assert quotes[0] == quotes[1] and result.quotes_made == 2
    assert (len(bank.fake.transfers), bank.fundings(), bank.debited()) == (1, 1, AMOUNT)


async def test_a_refused_transfer_request_with_a_live_quote_is_raised_not_remade(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    from wise_async import UnprocessableEntityError

    async with bank.client(rsa_key) as wise:
        bank.fake.faults.add("status", operation="transferCreate", status=422)
        with pytest.raises(UnprocessableEntityError):
            await wise.payouts.send(bank.profile_id, **bank.payout())
        result = await wise.payouts.send(bank.profile_id, **bank.payout())
    bodies = [r.json() for r in bank.fake.calls("transferCreate")]
    assert bodies[0] == bodies[1] and result.quotes_made == 1
    assert (len(bank.fake.transfers), bank.fundings()) == (1, 1)


async def test_a_committed_funding_whose_answer_and_check_were_lost_is_not_repeated(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    from wise_async import APIConnectionError

    async with bank.client(rsa_key) as wise:
        # the signed attempt (after the SCA challenge) is committed and its answer lost
        bank.fake.faults.add("reset_after_commit", operation="transferFund", skip=1)
        bank.fake.faults.reset_before_commit(operation="transferGet", times=3)  # the check fails too
        with pytest.raises(APIConnectionError):
            await wise.payouts.send(bank.profile_id, **bank.payout())
        assert bank.fundings() == 1  # Wise funded it; the caller was told the call did not finish
        result = await wise.payouts.send(bank.profile_id, **bank.payout())
    assert result.resumed == ("quote", "transfer", "funding") and result.payment is None
    assert (len(bank.fake.transfers), bank.fundings(), bank.debited()) == (1, 1, AMOUNT)


async def test_a_derived_client_drives_the_same_payouts(bank: Bank, rsa_key: rsa.RSAPrivateKey) -> None:
    async with bank.client(rsa_key) as wise:
        with pytest.raises(Crash):
            await wise.payouts.send(bank.profile_id, **bank.payout(), on_step=crash_at("transfer_created"))
        patient = wise.with_options(timeout=120)
        result = await patient.payouts.send(bank.profile_id, **bank.payout())
        assert patient.transfer_states.hub is wise.transfer_states.hub
    assert result.resumed == ("quote", "transfer") and not result.adopted
    assert (len(bank.fake.transfers), bank.fundings()) == (1, 1)


async def test_with_the_store_lost_a_transfer_of_another_amount_under_the_key_is_a_conflict(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    async with bank.client(rsa_key) as wise:
        await wise.payouts.send(bank.profile_id, **bank.payout())
        with pytest.raises(PayoutConflictError, match="another recipient or amount"):
            await Payouts(wise, store=MemoryPayoutStore()).send(
                bank.profile_id, **bank.payout(source_amount=Decimal("250"))
            )
    assert (len(bank.fake.transfers), bank.fundings()) == (1, 1)
