"""``make demo``: a narrated end-to-end payout through wise-async's public API, over real sockets.

FakeWise (a stateful fake of Wise) is served by uvicorn on a loopback port, and the example FastAPI
service (``examples/fastapi_service.py``) on another, as Wise's webhook receiver. The SDK talks HTTP to
them exactly as it would to Wise: OAuth with a refresh, a profile, a quote, a recipient, a transfer whose
first answer is lost after Wise committed it (the retry carries the same key: one transfer), funding
behind SCA cleared by signing, the state-change webhook verified by the receiver, a statement, and card
details over JOSE. One line per step; exit status 1 if any step fails.

    python -m examples.payout_demo      # from the repository root (``make demo``)
"""

from __future__ import annotations

import asyncio
import datetime
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from wise_api.models import (
    QuoteCreateBody,
    RecipientCreateRequest,
    RecipientCreateRequestDetails,
    TransferCreateBody,
    TransferCreateBodyDetails,
    TransferFundBody,
)

from examples.fastapi_service import create_app
from examples.telemetry import console_hooks, traced
from wise_async import OAuthTokens, PrivateKeyScaSigner, WiseClient
from wise_async.testing import FakeJose, FakeWise, serve_asgi

CLIENT_ID, CLIENT_SECRET = "payout-demo", "payout-demo-secret"  # the partner's OAuth client (fake)
REDIRECT_URI = "https://partner.example.com/wise/callback"
AUTHORIZATION_CODE = "demo-authorization-code"  # what Wise's authorization page would redirect with
IBAN = "DE89370400440532013000"


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

    async with serve_asgi(fake.asgi_app) as wise_server:
        receiver_app = create_app(
            lambda: WiseClient(
                personal_token=fake.add_personal_token(),
                base_url=wise_server.base_url,
                clock=fake.clock.now,
                hooks=console_hooks(),
            ),
            webhook_public_keys=[fake.webhooks.public_key_b64],
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

            async with say.step("transfer") as line:
                key = uuid.uuid4()
                fake.faults.reset_after_commit(method="POST", path="/v1/transfers")  # the answer is lost
                transfer = await wise.transfers.create(
                    body=TransferCreateBody(
                        target_account=recipient.id,
                        quote_uuid=quote.id,
                        customer_transaction_id=key,
                        details=TransferCreateBodyDetails(reference="Invoice 1843"),
                    )
                )
                attempts = fake.calls("transferCreate")
                keys = {record.json()["customerTransactionId"] for record in attempts}
                check(len(attempts) == 2, f"expected 2 attempts, the server saw {len(attempts)}")
                check(keys == {str(key)}, f"the retry changed the idempotency key: {keys}")
                check(len(fake.transfers) == 1, f"{len(fake.transfers)} transfers on the server")
                line(
                    f"{transfer.id}: {money(transfer.source_value, transfer.source_currency)} → "
                    f"{money(transfer.target_value, transfer.target_currency)}; the 1st answer was lost "
                    f"after commit, the retry sent the same customerTransactionId → 2 attempts, 1 transfer"
                )

            async with say.step("funding") as line:
                before = fake.balance(profile_id, "GBP")
                payment = await wise.transfers.fund(
                    profile_id, transfer.id, body=TransferFundBody(type_="BALANCE")
                )
                after = fake.balance(profile_id, "GBP")
                check(fake.counters["sca_challenged"] >= 1, "funding was not SCA-challenged")
                check(after < before, "the balance did not move")
                line(
                    f"403 SCA challenge → one-time token signed with the user's key → {payment.status}; "
                    f"GBP balance {before:.2f} → {after:.2f}"
                )

            async with say.step("webhook") as line:
                fake.set_transfer_status(transfer.id, "outgoing_payment_sent")
                delivery = fake.webhooks.transfer_state_change(transfer.id, previous_state="processing")
                async with httpx.AsyncClient(base_url=receiver.base_url) as http:
                    first = await fake.webhooks.deliver(http, "/wise/webhooks", delivery)
                    again = await fake.webhooks.deliver(http, "/wise/webhooks", delivery)  # Wise redelivers
                    shown = await http.get(f"/transfers/{transfer.id}")
                check(first.json() == {"ok": True}, f"receiver answered {first.status_code} {first.text}")
                check(again.json() == {"duplicate": True}, f"redelivery answered {again.text}")
                state = shown.json().get("lastWebhookState")
                check(state == "outgoing_payment_sent", f"the service saw state {state!r}")
                line(
                    f"transfers#state-change → {state}: signature verified by the FastAPI receiver, "
                    f"redelivery dropped as a duplicate, GET /transfers/{transfer.id} shows it"
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
