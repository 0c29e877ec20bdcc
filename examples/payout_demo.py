"""``make demo``: a narrated end-to-end payout through wise-async's public API, over real sockets.

FakeWise (a stateful fake of Wise) is served by uvicorn on a loopback port, and the example FastAPI
service (``examples/fastapi_service.py``) on another, as Wise's webhook receiver. The SDK talks HTTP to
them exactly as it would to Wise: OAuth with a refresh, a profile, a quote, a recipient, then the payout
through ``wise.payouts.send``: its transfer's first answer is lost after Wise committed it (the retry
carries the same key: one transfer) and the process "crashes" before funding; ``send`` again with the
same key finds the transfer and funds it, behind SCA cleared by signing. The sandbox simulation then
walks the transfer to ``outgoing_payment_sent`` while ``wait_for_transfer`` waits on the state-change
webhooks the served fake POSTs to the receiver; then a statement, and card details over JOSE. One line
per step; exit status 1 if any step fails.

    python -m examples.payout_demo      # from the repository root (``make demo``)
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

import anyio
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from wise_api.models import QuoteCreateBody, RecipientCreateRequest, RecipientCreateRequestDetails

from examples.fastapi_service import create_app
from examples.telemetry import console_hooks, traced
from wise_async import OAuthTokens, PrivateKeyScaSigner, WiseClient
from wise_async.payouts import PayoutStep
from wise_async.testing import FakeJose, FakeWise, serve_asgi
from wise_async.transfer_states import TransferStateHub, TransferStates

CLIENT_ID, CLIENT_SECRET = "payout-demo", "payout-demo-secret"  # the partner's OAuth client (fake)
REDIRECT_URI = "https://partner.example.com/wise/callback"
AUTHORIZATION_CODE = "demo-authorization-code"  # what Wise's authorization page would redirect with
IBAN = "DE89370400440532013000"
PAYOUT_KEY = "invoice-1843"  # the application's own name for this payout: same key, same payout
SIMULATION_SPACING = 0.5  # FakeWise applies each simulated step at once; Wise's sandbox asks for 5 s


class ProcessCrashed(Exception):
    """The demo's stand-in for the process dying between two steps of a payout."""


def crash_before_funding(step: PayoutStep) -> None:
    if step == "transfer_created":
        raise ProcessCrashed(step)


class StepFailed(Exception):
    """A step's outcome is not what Wise (and the SDK's promises) say it must be."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


class Narrator:
    """Prints one line per step; remembers whether every step passed."""

    def __init__(self) -> None:
        self.number = 0
        self.started = time.monotonic()

    @asynccontextmanager
    async def step(self, name: str) -> AsyncIterator[Callable[[str], None]]:
        self.number += 1
        said: list[str] = []
        began = time.monotonic()
        with traced(f"demo {name}"):  # WISE_OTEL_CONSOLE=tree: the step's trace printed below its line
            try:
                yield said.append
            except Exception as exc:
                print(f"[{self.number:2}] {name:<10} FAILED: {type(exc).__name__}: {exc}", flush=True)
                raise
            ms = (time.monotonic() - began) * 1000
            print(f"[{self.number:2}] {name:<10} {' '.join(said)}  ({ms:.0f} ms)", flush=True)


def money(value: object, currency: object) -> str:
    return f"{Decimal(str(value)):.2f} {currency}"


def set_up_wise() -> tuple[FakeWise, rsa.RSAPrivateKey, str, int]:
    """Wise's side of the story: a partner client, a user who authorized it, their SCA key, a card."""
    fake = FakeWise()
    jose = FakeJose.attach(fake)  # twcard speaks JWE, as Wise does
    fake.add_client(CLIENT_ID, CLIENT_SECRET)
    fake.add_authorization_code(AUTHORIZATION_CODE, redirect_uri=REDIRECT_URI, client_id=CLIENT_ID)
    user_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake.register_sca_public_key(  # the user uploaded the public half to Wise beforehand
        user_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    card_token = jose.add_card(pan="4396910000012345", cvv="739", expiry_date="10/31").token
    now = fake.clock.now()
    balance_id = fake.seed_statement_transactions(
        30, start=now - 30 * 86_400, end=now - 86_400, currency="EUR", opening_balance=500
    )
    return fake, user_key, card_token, balance_id


async def run() -> None:
    say = Narrator()
    fake, user_key, card_token, balance_id = set_up_wise()
    saved: list[OAuthTokens] = []

    async def save_tokens(tokens: OAuthTokens) -> None:  # Wise invalidates the old pair: persist each
        saved.append(tokens)

    transfer_updates = TransferStateHub()  # the receiver feeds it; wait_for_transfer listens to it
    async with serve_asgi(fake.asgi_app) as wise_server:
        receiver_app = create_app(
            lambda: WiseClient(
                personal_token=fake.add_personal_token(),
                base_url=wise_server.base_url,
                clock=fake.clock.now,
                hooks=console_hooks(),
            ),
            webhook_public_keys=[fake.webhooks.public_key_b64],
            transfer_states=transfer_updates,
        )
        async with (
            serve_asgi(receiver_app) as receiver,
            WiseClient(
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                base_url=wise_server.base_url,
                sca_handler=PrivateKeyScaSigner(user_key),
                on_token_refresh=save_tokens,
                clock=fake.clock.now,
                hooks=console_hooks(),
            ) as wise,
        ):
            print(
                f"wise-async demo: FakeWise on {wise_server.base_url} (uvicorn), "
                f"webhook receiver on {receiver.base_url} (FastAPI + uvicorn)",
                flush=True,
            )

            async with say.step("oauth") as line:
                tokens = await wise.exchange_authorization_code(AUTHORIZATION_CODE, REDIRECT_URI)
                check(tokens.refresh_token is not None, "the code exchange gave no refresh token")
                lifetime = (tokens.expires_at or 0) - fake.clock.now()
                line(f"authorization code → user token (valid {lifetime / 3600:.0f} h);")
                fake.clock.advance(lifetime + 60)
                profiles = await wise.profiles.list()
                check(
                    fake.counters["refresh"] == 1, f"expected 1 refresh grant, saw {fake.counters['refresh']}"
                )
                check(len(saved) == 1, f"on_token_refresh ran {len(saved)} times")
                line("12 h later it had expired: refreshed once before the next call, new pair saved")

            async with say.step("profile") as line:
                personal = next(p for p in profiles if p.type_ == "PERSONAL")
                profile = await wise.profiles.get(personal.id)
                profile_id = profile.id
                check(profile_id == fake.personal_profile_id, f"profile {profile_id} is not the user's")
                line(f"personal profile {profile_id} ({profile.full_name}), {len(profiles)} profiles in all")

            async with say.step("quote") as line:
                quote = await wise.quotes.create(
                    profile_id,
                    body=QuoteCreateBody(
                        source_currency="GBP", target_currency="EUR", source_amount=Decimal("100")
                    ),
                )
                line(
                    f"{quote.id}: {money(quote.source_amount, quote.source_currency)} → "
                    f"{money(quote.target_amount, quote.target_currency)} at {quote.rate}"
                )

            async with say.step("recipient") as line:
                recipient = await wise.recipients.create(
                    body=RecipientCreateRequest(
                        currency="EUR",
                        type_="iban",
                        profile=profile_id,
                        account_holder_name="Grace Hopper",
                        details=RecipientCreateRequestDetails.from_dict(
                            {"legalType": "PRIVATE", "iban": IBAN}
                        ),
                    )
                )
                line(f"{recipient.id}: Grace Hopper, EUR IBAN {IBAN[:4]}…{IBAN[-4:]}")

            payout = {
                "recipient": recipient.id,
                "source_currency": "GBP",
                "target_currency": "EUR",
                "source_amount": Decimal("100"),
                "reference": "Invoice 1843",
                "key": PAYOUT_KEY,
            }

            async with say.step("transfer") as line:
                fake.faults.reset_after_commit(method="POST", path="/v1/transfers")  # the answer is lost
                try:
                    await wise.payouts.send(profile_id, **payout, on_step=crash_before_funding)
                    raise StepFailed("the payout did not stop where the process crashed")
                except ProcessCrashed:
                    pass
                record = await wise.payouts.record(profile_id, PAYOUT_KEY)
                check(record is not None and record.transfer_id is not None, "the store lost the transfer")
                assert record is not None and record.transfer_id is not None
                transfer = await wise.transfers.get(record.transfer_id)
                attempts = fake.calls("transferCreate")
                keys = {call.json()["customerTransactionId"] for call in attempts}
                check(len(attempts) == 2, f"expected 2 attempts, the server saw {len(attempts)}")
                check(keys == {record.customer_transaction_id}, f"the retry changed the key: {keys}")
                check(len(fake.transfers) == 1, f"{len(fake.transfers)} transfers on the server")
                check(transfer.status == "incoming_payment_waiting", f"the transfer is {transfer.status}")
                line(
                    f"{transfer.id}: {money(transfer.source_value, transfer.source_currency)} → "
                    f"{money(transfer.target_value, transfer.target_currency)}; payouts.send(key="
                    f"{PAYOUT_KEY!r}): the 1st answer was lost after commit, the retry sent the same "
                    f"customerTransactionId → 2 attempts, 1 transfer; then the process crashed before funding"
                )

            async with say.step("funding") as line:
                before = fake.balance(profile_id, "GBP")
                result = await wise.payouts.send(profile_id, **payout)  # the same key, after the crash
                after = fake.balance(profile_id, "GBP")
                payment = result.payment
                check(result.transfer.id == transfer.id, "the resumed payout made another transfer")
                check(result.resumed == ("quote", "transfer"), f"resumed {result.resumed}")
                check(len(fake.transfers) == 1, f"{len(fake.transfers)} transfers on the server")
                check(fake.counters["sca_challenged"] >= 1, "funding was not SCA-challenged")
                check(payment is not None and payment.status == "COMPLETED", f"the funding was {payment}")
                check(before - after == transfer.source_value, f"the balance moved {before - after}")
                line(
                    f"payouts.send again with the same key: found transfer {transfer.id}, funded it — "
                    f"403 SCA challenge → one-time token signed with the user's key → COMPLETED; GBP balance "
                    f"{before:.2f} → {after:.2f}; 1 transfer, 1 funding"
                )

            async with say.step("webhook") as line:
                receiver_url = f"{receiver.base_url}/wise/webhooks"
                await wise.webhooks.profile_subscription_create(
                    profile_id,
                    body={
                        "name": "payouts demo",
                        "trigger_on": "transfers#state-change",
                        "delivery": {"version": "4.0.0", "url": receiver_url},
                    },
                )
                states = TransferStates(wise, hub=transfer_updates)
                async with anyio.create_task_group() as simulation:
                    simulation.start_soon(
                        functools.partial(
                            wise.sandbox.advance_transfer,
                            transfer.id,
                            to="outgoing_payment_sent",
                            spacing=SIMULATION_SPACING,
                        )
                    )
                    reached = await states.wait_for_transfer(
                        transfer.id, until="outgoing_payment_sent", timeout=30
                    )
                async with httpx.AsyncClient(base_url=receiver.base_url) as http:
                    last = fake.webhooks.outbox[-1]  # Wise redelivers: the receiver drops it
                    again = await fake.webhooks.deliver(http, "/wise/webhooks", last.delivery)
                    shown = await http.get(f"/transfers/{transfer.id}")
                check(reached.source == "webhook", f"the wait ended on a {reached.source}")
                check(again.json() == {"duplicate": True}, f"redelivery answered {again.text}")
                state = shown.json().get("lastWebhookState")
                check(state == "outgoing_payment_sent", f"the service saw state {state!r}")
                line(
                    f"sandbox simulation processing → funds_converted → {reached.state}; the served fake "
                    f"POSTed each signed transfers#state-change to the FastAPI receiver, which verified it, "
                    f"and wait_for_transfer woke on the webhook ({states.polls} poll); a redelivery was "
                    f"dropped as a duplicate"
                )

            async with say.step("statement") as line:
                challenged = fake.counters["sca_challenged"]
                end = datetime.datetime.fromtimestamp(fake.clock.now(), datetime.timezone.utc)
                statement = await wise.statements.get(
                    profile_id, balance_id, currency="EUR", start=end - datetime.timedelta(days=31), end=end
                )
                pdf = await wise.statements.get(
                    profile_id,
                    balance_id,
                    currency="EUR",
                    start=end - datetime.timedelta(days=31),
                    end=end,
                    format="pdf",
                )
                closing = statement.end_of_statement_balance
                check(len(statement.transactions) == 30, f"{len(statement.transactions)} statement lines")
                check(pdf.startswith(b"%PDF"), "the PDF statement is not a PDF")
                check(fake.counters["sca_challenged"] > challenged, "the statement was not SCA-challenged")
                line(
                    f"balance {balance_id}: {len(statement.transactions)} transactions, closing "
                    f"{money(closing.value, closing.currency)} (SCA cleared by signing); "
                    f"PDF {len(pdf):,} bytes"
                )

            async with say.step("card") as line:
                details = await wise.card_secrets.get_details(card_token)
                check(details.last4 == "2345", "the decrypted card number is not the card's")
                line(
                    f"details fetched as JWE from twcard and decrypted: {details.masked_pan}, "
                    f"expires {details.expiry_date} (PAN and CVV never printed)"
                )

    print(f"demo: {say.number} steps passed in {time.monotonic() - say.started:.1f} s", flush=True)


def main() -> int:
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        print(f"demo: FAILED ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
