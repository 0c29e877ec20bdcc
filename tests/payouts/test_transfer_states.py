"""``wise.transfer_states.wait_for_transfer``: webhook first, polling as the fallback, never backwards."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import anyio
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from examples.fastapi_service import create_app
from wise_async import WiseClient
from wise_async.testing import FakeWise, serve_asgi
from wise_async.transfer_states import (
    PollingPolicy,
    TransferFailedError,
    TransferState,
    TransferStateHub,
    TransferStates,
    TransferWaitTimeoutError,
)
from wise_async.webhooks import WebhookEvent, construct_event

from .conftest import Bank, report_figure


class FakeTime:
    """``sleep`` for the waiter on the fake's clock, one second at a time, running scheduled events."""

    def __init__(self, fake: FakeWise) -> None:
        self.fake = fake
        self.start = fake.clock.now()
        self.at: list[tuple[float, Callable[[], object]]] = []

    def schedule(self, offset: float, action: Callable[[], object]) -> None:
        self.at.append((self.start + offset, action))

    async def sleep(self, seconds: float) -> None:
        end = self.fake.clock.now() + seconds
        while self.fake.clock.now() < end:
            self.fake.clock.advance(min(1.0, end - self.fake.clock.now()))
            for due, action in [item for item in self.at if item[0] <= self.fake.clock.now()]:
                self.at.remove((due, action))
                action()
            await anyio.lowlevel.checkpoint()


async def funded_transfer(bank: Bank, wise: WiseClient) -> int:
    result = await wise.payouts.send(bank.profile_id, **bank.payout())
    return result.transfer.id


def webhook(bank: Bank, transfer_id: int, state: str) -> WebhookEvent:
    """A signed ``transfers#state-change`` delivery, verified as the receiver would."""
    delivery = bank.fake.webhooks.transfer_state_change(transfer_id, current_state=state)
    return construct_event(delivery.body, delivery.headers, public_keys=[bank.fake.webhooks.public_key_b64])


async def test_a_change_at_90_seconds_is_seen_within_6_polls_without_webhooks(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    async with bank.client(rsa_key) as wise:
        transfer_id = await funded_transfer(bank, wise)
        time = FakeTime(bank.fake)
        time.schedule(90, lambda: bank.fake.set_transfer_status(transfer_id, "outgoing_payment_sent"))
        states = TransferStates(wise, sleep=time.sleep)
        reached = await states.wait_for_transfer(transfer_id, until="outgoing_payment_sent", timeout=600)
    assert reached.state == "outgoing_payment_sent" and reached.source == "poll"
    assert states.polls <= 6
    report_figure(
        f"waiting: a change at t=90 s seen after {states.polls} polls "
        f"(t={reached.occurred_at - time.start:.0f} s)"
    )


async def test_a_webhook_at_10_seconds_ends_the_wait_with_no_further_poll(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    async with bank.client(rsa_key) as wise:
        transfer_id = await funded_transfer(bank, wise)
        time = FakeTime(bank.fake)
        states = TransferStates(wise, sleep=time.sleep)

        def deliver() -> None:
            bank.fake.set_transfer_status(transfer_id, "outgoing_payment_sent")
            states.publish(webhook(bank, transfer_id, "outgoing_payment_sent"))
            polls_at_webhook.append(states.polls)

        polls_at_webhook: list[int] = []
        time.schedule(10, deliver)
        reached = await states.wait_for_transfer(transfer_id, until="outgoing_payment_sent", timeout=600)
    assert reached.source == "webhook"
    assert states.polls - polls_at_webhook[0] == 0
    assert bank.fake.clock.now() - time.start == pytest.approx(10, abs=1)
    report_figure(f"waiting: webhook at t=10 s → {states.polls - polls_at_webhook[0]} further polls")


async def test_a_failure_state_raises_a_typed_error(bank: Bank, rsa_key: rsa.RSAPrivateKey) -> None:
    async with bank.client(rsa_key) as wise:
        transfer_id = await funded_transfer(bank, wise)
        bank.fake.set_transfer_status(transfer_id, "bounced_back")
        with pytest.raises(TransferFailedError) as failed:
            await wise.transfer_states.wait_for_transfer(transfer_id, timeout=5)
    assert (failed.value.transfer_id, failed.value.state) == (transfer_id, "bounced_back")


async def test_the_timeout_raises_with_the_last_state_seen(bank: Bank, rsa_key: rsa.RSAPrivateKey) -> None:
    async with bank.client(rsa_key) as wise:
        transfer_id = await funded_transfer(bank, wise)
        states = TransferStates(wise, sleep=FakeTime(bank.fake).sleep)
        with pytest.raises(TransferWaitTimeoutError) as late:
            await states.wait_for_transfer(transfer_id, timeout=120)
    assert late.value.last_state == "processing"
    assert isinstance(late.value, TimeoutError)


async def test_a_state_past_the_target_on_the_happy_path_counts_as_reached(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    async with bank.client(rsa_key) as wise:
        transfer_id = await funded_transfer(bank, wise)
        bank.fake.set_transfer_status(transfer_id, "outgoing_payment_sent")
        reached = await wise.transfer_states.wait_for_transfer(transfer_id, until="funds_converted")
    assert reached.state == "outgoing_payment_sent"


async def test_cancelling_the_wait_leaves_no_task_behind(bank: Bank, rsa_key: rsa.RSAPrivateKey) -> None:
    async with bank.client(rsa_key) as wise:
        transfer_id = await funded_transfer(bank, wise)
        states = TransferStates(wise, polling=PollingPolicy(first_delay=0.01, max_delay=0.02))
        before = len(asyncio.all_tasks())
        with anyio.move_on_after(0.1) as scope:
            await states.wait_for_transfer(transfer_id, timeout=None)
        assert scope.cancelled_caught
        await anyio.sleep(0)
        assert len(asyncio.all_tasks()) == before
        assert states.hub._waiters == {}
        assert states.polls >= 2


@pytest.mark.parametrize(
    ("states", "final"),
    [
        (["processing", "funds_converted", "outgoing_payment_sent"], "outgoing_payment_sent"),
        (["processing", "funds_converted", "outgoing_payment_sent", "bounced_back"], "bounced_back"),
    ],
)
async def test_any_delivery_order_ends_in_the_newest_state(
    bank: Bank, rsa_key: rsa.RSAPrivateKey, states: list[str], final: str
) -> None:
    async with bank.client(rsa_key) as wise:
        transfer_id = await funded_transfer(bank, wise)
    events = []
    for state in states:  # signed deliveries, verified as a receiver would, a minute apart
        bank.fake.clock.advance(60)
        events.append(webhook(bank, transfer_id, state))
    rng = random.Random(24)
    orders = 1000
    for _ in range(orders):
        deliveries = events + rng.sample(events, k=rng.randint(0, len(events)))  # with redeliveries
        rng.shuffle(deliveries)
        hub = TransferStateHub()
        moved_to = [event.data["current_state"] for event in deliveries if hub.publish(event)]
        assert hub.state_of(transfer_id).state == final  # type: ignore[union-attr]
        assert [states.index(state) for state in moved_to] == sorted(
            states.index(state) for state in moved_to
        )
    report_figure(f"waiting: {orders:,} random delivery orders (with redeliveries) → {final}")


async def test_the_fastapi_receiver_feeds_the_hub_over_loopback(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    async with bank.client(rsa_key) as wise:
        transfer_id = await funded_transfer(bank, wise)
        hub = wise.transfer_states.hub
        receiver = create_app(
            lambda: bank.client(rsa_key),
            webhook_public_keys=[bank.fake.webhooks.public_key_b64],
            transfer_states=hub,
        )
        async with serve_asgi(receiver) as served, httpx.AsyncClient(base_url=served.base_url) as http:

            async def deliver_later() -> None:
                await anyio.sleep(0.05)
                bank.fake.set_transfer_status(transfer_id, "outgoing_payment_sent")
                delivery = bank.fake.webhooks.transfer_state_change(transfer_id, previous_state="processing")
                assert (await bank.fake.webhooks.deliver(http, "/wise/webhooks", delivery)).json() == {
                    "ok": True
                }

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(deliver_later)
                reached = await wise.transfer_states.wait_for_transfer(transfer_id, timeout=30)
    assert (reached.state, reached.source) == ("outgoing_payment_sent", "webhook")
    assert wise.transfer_states.polls == 1  # the first look; the webhook did the rest


def test_waiting_and_sandbox_driving_under_trio(bank: Bank, rsa_key: rsa.RSAPrivateKey) -> None:
    seen: list[TransferState] = []

    async def main() -> None:
        async with bank.client(rsa_key) as wise:
            transfer_id = await funded_transfer(bank, wise)
            time = FakeTime(bank.fake)
            states = TransferStates(wise, sleep=time.sleep)
            time.schedule(30, lambda: states.publish(webhook(bank, transfer_id, "funds_converted")))
            seen.append(await states.wait_for_transfer(transfer_id, until="funds_converted", timeout=600))
            await wise.sandbox.advance_transfer(transfer_id, to="outgoing_payment_sent", spacing=0)
            seen.append(
                await states.wait_for_transfer(transfer_id, until="outgoing_payment_sent", timeout=600)
            )
            with anyio.move_on_after(0.05):
                await TransferStates(wise).wait_for_transfer(
                    transfer_id, until="funds_refunded", timeout=None
                )

    anyio.run(main, backend="trio")
    assert [(s.state, s.source) for s in seen] == [
        ("funds_converted", "webhook"),
        ("outgoing_payment_sent", "poll"),
    ]


def test_a_lagging_poll_never_moves_a_transfer_back() -> None:
    hub = TransferStateHub()
    assert hub.publish(TransferState(7, "outgoing_payment_sent", 100.0, "webhook"))
    assert not hub.publish(TransferState(7, "funds_converted", 101.0, "poll"))  # a stale read
    assert hub.publish(TransferState(7, "bounced_back", 102.0, "poll"))
    assert not hub.publish(TransferState(7, "outgoing_payment_sent", 101.5, "webhook"))  # late, older
    assert hub.state_of(7) == TransferState(7, "bounced_back", 102.0, "poll")
