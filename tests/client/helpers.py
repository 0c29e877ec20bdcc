"""Shared set-up for the WiseClient tests: a FakeWise with a registered OAuth client, and the money flow."""

from __future__ import annotations

import base64
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from wise_api.models import (
    QuoteCreateBody,
    RecipientCreateRequest,
    RecipientCreateRequestDetails,
    StandardTransfer,
    TransferCreateBody,
    TransferFundBody,
)

from wise_async import WiseClient, WiseError
from wise_async.testing import FakeWise, RecordedRequest

CLIENT_ID = "client-id"
CLIENT_SECRET = "client-secret"
SANDBOX_HOST = "api.wise-sandbox.com"
PRODUCTION_HOST = "api.wise.com"
TRANSFER_AMOUNT = Decimal("100.00")  # sourceAmount of every quote made by new_transfer()

Sleep = Callable[[float], Awaitable[None]]


def new_fake() -> FakeWise:
    fake = FakeWise()
    fake.add_client(CLIENT_ID, CLIENT_SECRET)
    return fake


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign(key: rsa.RSAPrivateKey, ott: str) -> str:
    return base64.b64encode(key.sign(ott.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def personal_client(fake: FakeWise, **kwargs: Any) -> WiseClient:
    kwargs.setdefault("transport", fake.transport())
    return WiseClient(personal_token=fake.add_personal_token(), clock=fake.clock.now, **kwargs)


def user_client(
    fake: FakeWise, *, expires_in: int | None = None, know_expiry: bool = True, **kwargs: Any
) -> WiseClient:
    """A client holding an OAuth user token pair issued to CLIENT_ID, plus the client credentials."""
    issued = fake.issue_user_token(client_id=CLIENT_ID, expires_in=expires_in)
    kwargs.setdefault("transport", fake.transport())
    return WiseClient(
        access_token=issued["access_token"],
        refresh_token=issued["refresh_token"],
        expires_at=fake.clock.now() + issued["expires_in"] if know_expiry else None,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        clock=fake.clock.now,
        **kwargs,
    )


def bearer_of(record: RecordedRequest) -> str:
    scheme, _, token = record.headers.get("authorization", "").partition(" ")
    assert scheme == "Bearer", record.headers.get("authorization")
    return token


async def quote_and_recipient(
    wise: WiseClient, fake: FakeWise, profile_id: int | None = None
) -> tuple[uuid.UUID, int]:
    """A GBP 100 -> EUR quote and a EUR recipient, through the typed facade."""
    profile_id = profile_id or fake.personal_profile_id
    quote = await wise.quotes.create(
        profile_id,
        body=QuoteCreateBody(source_currency="GBP", target_currency="EUR", source_amount=TRANSFER_AMOUNT),
    )
    recipient = await wise.recipients.create(
        body=RecipientCreateRequest(
            currency="EUR",
            type_="iban",
            profile=profile_id,
            account_holder_name="Bob",
            details=RecipientCreateRequestDetails.from_dict(
                {"legalType": "PRIVATE", "iban": "DE89370400440532013000"}
            ),
        )
    )
    assert isinstance(quote.id, uuid.UUID)
    assert isinstance(recipient.id, int)
    return quote.id, recipient.id


async def new_transfer(wise: WiseClient, fake: FakeWise, profile_id: int | None = None) -> StandardTransfer:
    """A GBP 100 transfer ready to fund, made through the typed facade."""
    quote_id, recipient_id = await quote_and_recipient(wise, fake, profile_id)
    transfer = await wise.transfers.create(
        body=TransferCreateBody(
            target_account=recipient_id, quote_uuid=quote_id, customer_transaction_id=uuid.uuid4()
        )
    )
    assert isinstance(transfer.id, int)
    return transfer


def fund_body() -> TransferFundBody:
    return TransferFundBody(type_="BALANCE")


async def raw_transfer_body(wise: WiseClient, fake: FakeWise) -> dict[str, Any]:
    """A transferCreate JSON body *without* customerTransactionId, for the raw httpx client."""
    quote_id, recipient_id = await quote_and_recipient(wise, fake)
    return {"targetAccount": recipient_id, "quoteUuid": str(quote_id), "details": {"reference": "Invoice 7"}}


class RecordingSleep:
    """An injectable ``sleep`` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class StubTransport(httpx.AsyncBaseTransport):
    """Answers with a handler (may raise), counting requests and whether it was closed."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return self.handler(request)

    async def aclose(self) -> None:
        self.closed = True


async def send_ignoring_answer(call: Awaitable[object]) -> None:
    """Make a call whose answer does not matter: FakeWise may not serve (or may reject) the route,
    the test asserts on what was *sent*, from ``fake.requests``."""
    with contextlib.suppress(WiseError):
        await call
