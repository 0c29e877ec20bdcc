"""A FastAPI service on wise-async, ready to copy.

* One ``WiseClient`` for the whole app, opened and closed by the lifespan: its connection pool, token
  refresh and SCA state are shared by every request (never make a client per request).
* Routes await SDK calls and return SDK models as ``WiseJSONResponse(model.to_dict())``: the generated
  models are attrs classes, not pydantic, and ``to_dict()`` gives Wise's own JSON shape (camelCase keys,
  ISO dates, enum values, money as ``Decimal``); ``WiseJSONResponse`` writes it with the SDK's encoder,
  so money keeps its exact digits (FastAPI's default encoder would turn ``Decimal`` into ``float``).
  ``Model.from_dict(data)`` reads the answer back.
* SDK errors become JSON answers with Wise's status and trace id (``wise_error`` below).
* ``POST /wise/webhooks`` verifies Wise's signature over the raw body, drops redeliveries by
  ``X-Delivery-Id``, records transfer state changes, and feeds them to a ``TransferStateHub`` if given
  (``wise.transfer_states.hub``: then ``wait_for_transfer`` wakes on the webhook instead of polling).

Run it against Wise's sandbox::

    WISE_API_TOKEN=... uvicorn examples.fastapi_service:app

or against FakeWise on your machine (``python -m wise_async.testing serve`` prints these values)::

    WISE_BASE_URL=http://127.0.0.1:12111 WISE_API_TOKEN=... uvicorn examples.fastapi_service:app

Add ``WISE_OTEL_CONSOLE=tree`` to see each request's trace (the request span, the SDK's call spans and
their attempts) printed as a tree; see ``examples/telemetry.py``.
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures at run time, and the
# dependency aliases below are local to create_app.
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from wise_api import wire
from wise_api.models import QuoteCreateBody

from examples.telemetry import console_hooks, instrument
from wise_async import APIStatusError, WiseClient, WiseError
from wise_async.transfer_states import TransferStateHub
from wise_async.webhooks import (
    InMemoryWebhookDeduplicator,
    TransfersStateChangeData,
    WebhookDeduplicator,
    WebhookEvent,
    WebhookPayloadError,
    WebhookVerificationError,
    webhook_dependency,
)


def client_from_environment() -> WiseClient:
    """``WISE_API_TOKEN`` (a personal token), optional ``WISE_BASE_URL`` / ``WISE_ENVIRONMENT``."""
    environment = os.environ.get("WISE_ENVIRONMENT", "sandbox")
    return WiseClient(
        personal_token=os.environ["WISE_API_TOKEN"],
        environment="production" if environment == "production" else "sandbox",
        base_url=os.environ.get("WISE_BASE_URL"),
        hooks=console_hooks(),  # WISE_OTEL_CONSOLE=tree: each request's trace printed (examples/telemetry.py)
    )


class WiseJSONResponse(JSONResponse):
    """JSON written by the SDK's encoder: a ``Decimal`` goes out as its exact literal (``116.24``)."""

    def render(self, content: Any) -> bytes:
        return wire.dumps(content)


class QuoteRequest(BaseModel):
    source_currency: str
    target_currency: str
    source_amount: Decimal


def create_app(
    make_client: Callable[[], WiseClient] = client_from_environment,
    *,
    webhook_public_keys: Sequence[str] | None = None,
    deduplicator: WebhookDeduplicator | None = None,
    transfer_states: TransferStateHub | None = None,
) -> FastAPI:
    """The service; tests pass a client factory and the fake's webhook key."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with make_client() as wise:
            app.state.wise = wise
            yield

    app = FastAPI(title="payouts (wise-async example)", lifespan=lifespan)
    instrument(app)  # with WISE_OTEL_CONSOLE set: each request a span, the SDK's calls under it
    dedupe = deduplicator or InMemoryWebhookDeduplicator()  # Redis / a unique column across workers
    environment: Literal["production", "sandbox"] = (
        "production" if os.environ.get("WISE_ENVIRONMENT") == "production" else "sandbox"
    )
    wise_webhook = webhook_dependency(environment=environment, public_keys=webhook_public_keys)
    app.state.transfer_states = {}  # transfer id -> latest state received by webhook

    def wise_of(request: Request) -> WiseClient:
        client: WiseClient = request.app.state.wise
        return client

    Wise = Annotated[WiseClient, Depends(wise_of)]
    VerifiedEvent = Annotated[WebhookEvent, Depends(wise_webhook)]

    @app.exception_handler(WiseError)
    async def wise_error(request: Request, exc: WiseError) -> JSONResponse:
        if isinstance(exc, APIStatusError):  # Wise answered: pass its status on, with its trace id
            content = {"error": type(exc).__name__, "status": exc.status_code, "trace_id": exc.trace_id}
            return JSONResponse(content, status_code=exc.status_code if exc.status_code < 500 else 502)
        return JSONResponse({"error": type(exc).__name__}, status_code=502)  # could not reach Wise

    @app.exception_handler(WebhookVerificationError)  # not from Wise: do not trust, do not parse
    @app.exception_handler(WebhookPayloadError)  # signed, but not the documented envelope
    async def rejected_webhook(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": type(exc).__name__}, status_code=400)

    @app.get("/profiles")
    async def profiles(wise: Wise) -> WiseJSONResponse:
        return WiseJSONResponse([profile.to_dict() for profile in await wise.profiles.list()])

    @app.post("/profiles/{profile_id}/quotes")
    async def create_quote(profile_id: int, order: QuoteRequest, wise: Wise) -> WiseJSONResponse:
        body = QuoteCreateBody(
            source_currency=order.source_currency,
            target_currency=order.target_currency,
            source_amount=order.source_amount,
        )
        quote = await wise.quotes.create(profile_id, body=body)
        return WiseJSONResponse(quote.to_dict())

    @app.get("/transfers/{transfer_id}")
    async def transfer(transfer_id: int, wise: Wise) -> WiseJSONResponse:
        found = await wise.transfers.get(transfer_id)
        result = found.to_dict()
        result["lastWebhookState"] = app.state.transfer_states.get(transfer_id)
        return WiseJSONResponse(result)

    @app.post("/wise/webhooks")
    async def receive(event: VerifiedEvent) -> dict[str, Any]:
        if event.delivery_id and await dedupe.seen(event.delivery_id):  # Wise redelivers
            return {"duplicate": True}
        if event.is_test:
            return {"ok": True}
        match event.typed_data:
            case TransfersStateChangeData(current_state=str() as state, resource=resource) if resource:
                if (
                    resource.id is not None
                ):  # every schema version: typed fields, None where Wise left one out
                    app.state.transfer_states[resource.id] = state
                if transfer_states is not None:
                    transfer_states.publish(event)  # ordered by occurred_at: a late old event is ignored
            case _:  # other events
                pass
        return {"ok": True}

    return app


app = create_app()  # the client is made at startup, so importing this module reads no environment
