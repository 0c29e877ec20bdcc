"""FakeWise sends webhooks by itself: each transfer status change becomes a signed transfers#state-change for
every matching subscription created through the API; in-process they wait in ``fake.webhooks.outbox``
until flushed to an ASGI app, served they are POSTed to the subscription URL and retried on schedule."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import httpx

from wise_async import WiseClient
from wise_async.testing import FakeWise, serve_asgi
from wise_async.testing._rule_checks import RuleWorld, sdk_options
from wise_async.testing._rule_checks import in_process as reach_in_process
from wise_async.webhooks import construct_event

Scope = MutableMapping[str, Any]


class Receiver:
    """A bare ASGI webhook endpoint: answers each POST with the next status of ``statuses`` (then 200)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[bytes, dict[str, str]]] = []

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.received.append((body, {k.decode(): v.decode() for k, v in scope["headers"]}))
        status = self.statuses.pop(0) if self.statuses else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def subscribe(
    world: RuleWorld, url: str, *, profile_id: int | None = None, version: str = "4.0.0"
) -> str:
    body = {
        "name": "payouts",
        "trigger_on": "transfers#state-change",
        "delivery": {"version": version, "url": url},
    }
    created = await world.wise.webhooks.profile_subscription_create(profile_id or world.profile_id, body=body)
    return str(created.id)


@contextlib.asynccontextmanager
async def in_process() -> AsyncIterator[RuleWorld]:
    fake = FakeWise()
    async with reach_in_process(fake) as connect, connect(personal_token=fake.add_personal_token()) as wise:
        yield RuleWorld(fake, wise, connect)


async def test_each_state_change_is_queued_signed_for_each_matching_subscription() -> None:
    async with in_process() as world:
        fake = world.fake
        ours = await subscribe(world, "https://payouts.example/wise/webhooks")
        await subscribe(world, "https://other.example/hook", profile_id=fake.business_profile_id)
        old = await subscribe(world, "https://payouts.example/v2", version="2.0.0")
        transfer = await world.funded_transfer()
        await world.simulate(transfer.id, "processing", "funds_converted", "outgoing_payment_sent")
        fake.set_transfer_status(transfer.id, "bounced_back")  # the test's back door announces too

        receiver = Receiver()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver)) as http:
            flushed = await fake.webhooks.flush(http)
        states = ["processing", "funds_converted", "outgoing_payment_sent", "bounced_back"]
        assert len(flushed) == len(receiver.received) == 2 * len(states)  # not the business profile's
        events = [
            construct_event(body, headers, public_keys=[fake.webhooks.public_key_b64])
            for body, headers in receiver.received
        ]
        assert [e.typed_data.current_state for e in events] == [s for s in states for _ in (ours, old)]  # type: ignore[union-attr]
        assert [e.typed_data.previous_state for e in events[::2]] == [
            "incoming_payment_waiting",
            *states[:-1],
        ]  # type: ignore[union-attr]
        assert {(e.subscription_id, e.schema_version) for e in events} == {(ours, "4.0.0"), (old, "2.0.0")}
        assert all(e.typed_data.resource.id == transfer.id for e in events)  # type: ignore[union-attr]
        assert {item.state for item in fake.webhooks.outbox} == {"delivered"}
        assert fake.webhooks.pending() == []


async def test_an_application_subscription_hears_every_profile() -> None:
    async with in_process() as world:
        world.fake.add_client("partner", "secret")
        async with world.connect(client_id="partner", client_secret="secret") as application:
            body = {
                "name": "all",
                "trigger_on": "transfers#state-change",
                "delivery": {"version": "4.0.0", "url": "https://p.example/h"},
            }
            subscription = await application.webhooks.application_subscription_create("partner", body=body)
        transfer = await world.transfer()
        await world.wise.transfers.cancel(transfer.id)
        fake = world.fake
    (item,) = fake.webhooks.outbox
    assert item.subscription_id == str(subscription.id)
    assert item.delivery.json()["data"]["current_state"] == "cancelled"


async def wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    with anyio.fail_after(seconds):
        while not condition():
            await anyio.sleep(0.01)


async def test_served_fake_posts_to_the_subscription_url_and_retries_on_schedule() -> None:
    fake = FakeWise()
    fake.webhooks.retry_delays = (0.05, 0.05)
    flaky, down = Receiver(500, 503), Receiver(500, 500, 500, 500)

    def connect(**credentials: Any) -> WiseClient:
        return WiseClient(base_url=server.base_url, **sdk_options(fake), **credentials)

    async with (
        serve_asgi(fake.asgi_app) as server,
        serve_asgi(flaky) as flaky_url,
        serve_asgi(down) as down_url,
        connect(personal_token=fake.add_personal_token()) as wise,
    ):
        world = RuleWorld(fake, wise, connect)
        await subscribe(world, f"{flaky_url.base_url}/wise/webhooks")
        await subscribe(world, f"{down_url.base_url}/wise/webhooks")
        await subscribe(world, "https://not-loopback.example/hook")
        transfer = await world.funded_transfer()
        await wait_until(lambda: not fake.webhooks.pending())
    flaky_item, down_item, remote_item = fake.webhooks.outbox
    assert (flaky_item.state, flaky_item.attempts) == ("delivered", ["500", "503", "200"])
    assert (down_item.state, down_item.attempts) == ("failed", ["500", "500", "500"])  # 1 + 2 retries
    assert remote_item.state == "failed" and remote_item.attempts[0] == "not sent: not a loopback host"
    assert len(down.received) == 3
    bodies = {body for body, _ in flaky.received}
    ids = {headers["x-delivery-id"] for _, headers in flaky.received}
    assert len(bodies) == len(ids) == 1  # a retry is the same delivery, byte for byte
    body, headers = flaky.received[-1]
    assert headers["content-type"] == "application/json"
    event = construct_event(body, headers, public_keys=[fake.webhooks.public_key_b64])
    assert json.loads(body)["data"]["resource"]["id"] == transfer.id
    assert event.typed_data.current_state == "processing"  # type: ignore[union-attr]
