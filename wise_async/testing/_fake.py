"""FakeWise: an in-process, stateful stand-in for the Wise API, served as an httpx transport or ASGI app.

Request pipeline (one place, so every route gets the same treatment)::

    record -> match route -> injected fault? -> authenticate -> SCA gate -> handler
           -> trace/correlation headers -> (maybe drop the connection after commit)

``GET /_fake/state`` (the fake's inspection route, ``_inspection``) is answered before all that.

State is only touched inside ``_serve``, which is synchronous and runs under a ``threading.RLock``:
handlers never await, so each request is atomic under asyncio, trio and threads alike, and the fake
is not tied to the event loop it was first used on.
"""

from __future__ import annotations

import collections
import functools
import itertools
import random
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from decimal import Decimal
from typing import Any, Literal

import anyio
import anyio.lowlevel
import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from . import (
    _inspection,
    _routes_cards,
    _routes_files,
    _routes_jose,
    _routes_oauth,
    _routes_paging,
    _routes_profiles,
    _routes_quotes,
    _routes_recipients,
    _routes_sca,
    _routes_simulation,
    _routes_spec,
    _routes_statements,
    _routes_transfers,
    _routes_webhooks,
)
from ._clock import FakeClock, format_iso
from ._faults import Faults
from ._http import (
    FakeRequest,
    FakeResponse,
    RecordedRequest,
    Rejection,
    oauth_error,
    spring_error,
)
from ._jose_hook import JoseHook
from ._routes_quotes import DEFAULT_RATES
from ._routing import Call, Principal, Route, Router, TokenKind
from ._sca import OneTimeToken, load_rsa_public_key, sca_gate
from ._seeds import PagedResources
from ._store import BalanceMovement, Collection, Record, public
from ._tokens import CodeGrant, TokenStore
from ._transfer_states import change_status
from ._webhooks import FakeWebhooks

__all__ = ["FakeWise", "FakeWiseTransport"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ACCESS_TOKEN_TTL = 12 * 3600
REFRESH_TOKEN_TTL = 20 * 365 * 86400
DEFAULT_BALANCE = Decimal("10000.00")
DEFAULT_CURRENCIES = ("GBP", "EUR", "USD")

_ID_STARTS = {
    "user": 6_100_001,
    "profile": 30_000_001,
    "address": 36_000_001,
    "recipient": 40_000_001,
    "transfer": 50_000_001,
}


_VERSION_SEGMENT = re.compile(r"^/(v\d+|\d{4}Q[1-4])(?=/)")


class _DroppedConnection(Exception):
    """Internal: an injected reset; adapters turn it into the httpx exception the client would see.

    ``committed`` is the answer the server produced before the connection was lost (after commit).
    """

    def __init__(
        self,
        exception_type: type[httpx.TransportError],
        message: str,
        committed: FakeResponse | None = None,
    ) -> None:
        super().__init__(message)
        self.exception_type = exception_type
        self.message = message
        self.committed = committed


class FakeWiseTransport(httpx.AsyncBaseTransport):
    """Serves a :class:`FakeWise` to ``httpx.AsyncClient`` for any host, without sockets."""

    def __init__(self, fake: FakeWise) -> None:
        self.fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        # Yield once, as a network round trip would, so concurrent callers really interleave.
        await anyio.lowlevel.checkpoint()
        fake_request = FakeRequest.build(
            request.method,
            request.url.host,
            request.url.path,
            request.url.query.decode("ascii", "replace"),
            httpx.Headers(request.headers),
            body,
        )
        try:
            response = self.fake._serve(fake_request)
        except _DroppedConnection as dropped:
            raise dropped.exception_type(dropped.message, request=request) from None
        return httpx.Response(
            response.status,
            headers=list(response.headers.items()),
            content=response.body,
            request=request,
        )


class FakeWise(PagedResources):
    """A stateful fake of the Wise Platform API for tests of the SDK and of applications using it.

    Typical use::

        fake = FakeWise()
        fake.add_client("my-client", "s3cret")
        token = fake.issue_user_token()["access_token"]
        base_url = "https://api.wise-sandbox.com"
        async with httpx.AsyncClient(transport=fake.transport(), base_url=base_url) as client:
            r = await client.get("/v2/profiles", headers={"Authorization": f"Bearer {token}"})

    A personal and a business profile (with GBP/EUR/USD balances) are seeded for :attr:`user_id`.
    Ids come from counters, secrets from a seeded RNG and keys from the seed, so runs are reproducible.
    """

    def __init__(self, *, clock: FakeClock | None = None, seed: int | None = 0) -> None:
        self.clock = clock or FakeClock()
        self.seed = seed
        """Ids, secrets and keys (webhook signing, JOSE) follow from it; None: random keys and secrets."""
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._ids = {name: itertools.count(start) for name, start in _ID_STARTS.items()}
        self._trace_ids = itertools.count(1)

        self.router = Router(
            [
                *_routes_oauth.ROUTES,
                *_routes_profiles.ROUTES,
                *_routes_quotes.ROUTES,
                *_routes_recipients.ROUTES,
                *_routes_transfers.ROUTES,
                *_routes_simulation.ROUTES,
                *_routes_webhooks.ROUTES,
                *_routes_sca.ROUTES,
                *_routes_jose.ROUTES,
                *_routes_cards.ROUTES,
                *_routes_paging.ROUTES,
                *_routes_statements.ROUTES,
                *_routes_files.ROUTES,
            ]
        )
        self.stateful_operations: frozenset[str] = frozenset(r.operation_id for r in self.router.routes)
        """operationIds with a stateful route; every other operation gets its spec-driven answer."""
        self.router.follow_bundle_paths(_routes_spec.bundle_paths())
        self.router.add(*_routes_spec.spec_routes(self.stateful_operations))
        self.requests: list[RecordedRequest] = []
        """Every request that reached the fake, in arrival order."""
        self.counters: collections.Counter[str] = collections.Counter()
        """Event counts: ``oauth_token``, ``refresh``, ``grant:<type>``, one per operationId,
        ``sca_challenged``/``sca_approved``/``sca_failures``, ``fault:<kind>``, replays..."""
        self.faults = Faults()
        self.jose: JoseHook | None = None
        """JOSE codec for JWE/JWS bodies; None means those routes take plain JSON.
        ``FakeJose.attach(fake)`` makes it speak JOSE as Wise does (``wise_async.testing``)."""
        self.webhooks = FakeWebhooks(self)
        """Signed webhook deliveries; verify them with ``public_keys=[fake.webhooks.public_key_b64]``."""

        # OAuth knobs and state.
        self.access_token_ttl = ACCESS_TOKEN_TTL
        self.refresh_token_ttl = REFRESH_TOKEN_TTL
        self.token_scope = "transfers"
        self.auth_error_style: Literal["invalid_token", "unauthorized"] = "invalid_token"
        """Body of the 401 for a bad bearer token; Wise has been seen sending both."""
        self._clients: dict[str, str] = {}
        self._tokens = TokenStore(self.clock, self._new_secret)
        self._authorization_codes: dict[str, CodeGrant] = {}
        self._registration_codes: dict[tuple[str, str], CodeGrant] = {}

        # SCA knobs and state.
        self.sca_operations: set[str] = {"transferFund", "balanceStatementGet"}
        """operationIds answered with a 403 SCA challenge unless approved (Wise may add any by risk)."""
        self.sca_challenges: list[str] = ["PIN"]
        """Challenge types a new OTT demands: PIN, SMS, WHATSAPP, VOICE, FACE_MAP, ..."""
        self.sca_signature_allowed = True
        """False mimics PSD2 accounts (UK/EEA personal tokens): signed retries are refused again."""
        self.sca_response_body: Literal["spring", "empty"] = "spring"
        self.ott_validity = 3600
        self.otp_code = "111111"
        self.sca_max_failures = 5
        self.sca_block_seconds = 15 * 60
        self._otts: dict[str, OneTimeToken] = {}
        self._sca_keys: list[rsa.RSAPublicKey] = []
        self._sca_failures: dict[int | None, int] = {}
        self._sca_blocked_until: dict[int | None, float] = {}
        self._pins: dict[int, str] = {}

        # Resources.
        self._users: dict[int, dict[str, str]] = {}
        self.profiles: Collection[int] = Collection("profiles")
        self.quotes: Collection[str] = Collection("quotes")
        self.recipients: Collection[int] = Collection("recipients")
        self.transfers: Collection[int] = Collection("transfers")
        self.subscriptions: Collection[str] = Collection("subscriptions")
        """Webhook subscriptions created through the API (profile and application scope)."""
        self.rates: dict[tuple[str, str], Decimal] = dict(DEFAULT_RATES)
        self.balances: dict[tuple[int, str], Decimal] = {}
        """Balance per (profile id, currency); transferFund debits it."""
        self.balance_movements: list[BalanceMovement] = []
        self._transfer_keys: dict[tuple[int, str], tuple[str, int]] = {}

        self.user_id = self.add_user(email="ada@example.com")
        self.personal_profile_id: int = self.add_profile("PERSONAL")["id"]
        self.business_profile_id: int = self.add_profile("BUSINESS")["id"]
        self.set_pin("1234")

    # ----------------------------------------------------------------- serving

    def transport(self) -> FakeWiseTransport:
        """An ``httpx.AsyncBaseTransport`` for this fake; make as many as you like, they share state."""
        return FakeWiseTransport(self)

    @functools.cached_property
    def asgi_app(self) -> ASGIApp:
        """This fake as an ASGI 3 app: ``httpx.ASGITransport(app=fake.asgi_app)``, or served on a socket
        (``app = fake.asgi_app`` then ``uvicorn module:app``, or ``python -m wise_async.testing serve``).

        A plain coroutine function, so servers that tell ASGI 2 from 3 by inspection pick ASGI 3.
        Injected connection resets raise the matching httpx exception out of the app, which
        ``httpx.ASGITransport`` propagates to the caller. After commit the app first sends the committed
        answer's head and half its body, so a real server cuts the connection mid-body (an ASGI app
        cannot drop a connection before a response starts: there uvicorn answers 500 instead).
        """

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await self._asgi(scope, receive, send)

        return app

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # served: send webhooks while the server runs
            async with anyio.create_task_group() as group:
                while True:
                    message = await receive()
                    if message["type"] == "lifespan.startup":
                        group.start_soon(self.webhooks.send_forever)
                        await send({"type": "lifespan.startup.complete"})
                    elif message["type"] == "lifespan.shutdown":
                        group.cancel_scope.cancel()
                        await send({"type": "lifespan.shutdown.complete"})
                        return
        if scope["type"] != "http":
            raise RuntimeError(f"FakeWise only serves HTTP, not {scope['type']!r}")
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        headers = httpx.Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]])
        host = headers.get("host") or str((scope.get("server") or ("localhost", 80))[0])
        if ":" in host and not host.endswith("]"):
            host = host.rsplit(":", 1)[0]
        request = FakeRequest.build(
            scope["method"],
            host,
            scope["path"],
            scope.get("query_string", b"").decode("latin-1"),
            headers,
            b"".join(chunks),
        )
        try:
            response = self._serve(request)
        except _DroppedConnection as dropped:
            if dropped.committed is not None:
                await self._send_head(send, dropped.committed)
                cut = dropped.committed.body[: len(dropped.committed.body) // 2]
                await send({"type": "http.response.body", "body": cut, "more_body": True})
            raise dropped.exception_type(dropped.message) from None
        await self._send_head(send, response)
        await send({"type": "http.response.body", "body": response.body})

    @staticmethod
    async def _send_head(send: Send, response: FakeResponse) -> None:
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        raw_headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})

    def _serve(self, request: FakeRequest) -> FakeResponse:
        with self._lock:
            if request.path.startswith(_inspection.PREFIX):  # the fake's own route, not Wise's
                return _inspection.inspect(self, request)
            record = RecordedRequest(
                method=request.method,
                host=request.host,
                path=request.path,
                query=request.query_string,
                headers=httpx.Headers(request.headers),
                body=request.body,
                at=self.clock.now(),
            )
            self.requests.append(record)
            matched, params, path_exists = self.router.match(request.method, request.path)
            record.operation_id = matched.operation_id if matched else None

            fault = self.faults.take(request.method, request.path, record.operation_id, request.host)
            written = _VERSION_SEGMENT.match(matched.moved_from or "") if matched is not None else None
            if fault is None and written is not None:  # or the path the stateful route was written for
                fault_path = _VERSION_SEGMENT.sub(written.group(0), request.path, count=1)
                fault = self.faults.take(request.method, fault_path, record.operation_id, request.host)
            if fault is not None:
                record.fault = fault.kind
                self.counters[f"fault:{fault.kind}"] += 1
                if fault.kind == "reset_before_commit":
                    raise _DroppedConnection(fault.exception_type(), "Connection reset by peer (injected)")
            if fault is not None and not fault.drops_connection:
                response = fault.response()
            else:
                response = self._dispatch(request, matched, params, path_exists)

            response.headers["x-trace-id"] = f"{next(self._trace_ids):016x}"
            correlation = request.headers.get("x-external-correlation-id")
            if correlation is not None:
                response.headers["x-external-correlation-id"] = correlation
            record.status = response.status
            record.response_headers = httpx.Headers(response.headers)
            if fault is not None and fault.kind == "reset_after_commit":
                raise _DroppedConnection(
                    fault.exception_type(), "Server closed the connection (injected)", response
                )
            return response

    def _dispatch(
        self, request: FakeRequest, matched: Route | None, params: dict[str, str], path_exists: bool
    ) -> FakeResponse:
        if matched is None:
            status = 405 if path_exists else 404
            return spring_error(self.clock.now(), status, request.path, "No route in FakeWise")
        self.counters[matched.operation_id] += 1
        try:
            principal = self._authenticate(matched, request)
            call = Call(request, matched, params, principal)
            extra_headers = {}
            if matched.operation_id in self.sca_operations:
                extra_headers = sca_gate(self, call)
            response = matched.handler(self, call)
            response.headers.update(extra_headers)
            return response
        except Rejection as rejection:
            return rejection.response

    def _authenticate(self, matched: Route, request: FakeRequest) -> Principal | None:
        """Bearer check per the route's security; ``basic`` routes authenticate themselves."""
        if "basic" in matched.security:
            return None
        header = request.headers.get("authorization", "")
        if not header:
            if "anonymous" in matched.security:
                return None
            raise Rejection(
                oauth_error(401, "unauthorized", "Full authentication is required to access this resource")
            )
        scheme, _, value = header.partition(" ")
        token = self._tokens.access.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise self._bad_token("Invalid access token")
        if token.expired(self.clock.now()):
            raise self._bad_token("Access token expired")
        allowed: set[TokenKind] = set()
        for security in matched.security:
            if security == "user":
                allowed |= {"user", "personal"}
            elif security == "client":
                allowed.add("client")
            elif security == "anonymous":
                allowed |= {"user", "personal", "client"}
        if token.kind not in allowed:
            raise Rejection(oauth_error(403, "access_denied", "Access is denied"))
        return token.principal()

    def _bad_token(self, description: str) -> Rejection:
        error = "unauthorized" if self.auth_error_style == "unauthorized" else "invalid_token"
        return Rejection(oauth_error(401, error, description, bearer=True))

    # ----------------------------------------------------------------- internals for handlers

    def _new_secret(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    def _obfuscated_phone(self, user_id: int | None) -> str:
        phone = self._users.get(user_id or 0, {}).get("phone", "+447700900123")
        return "*" * (len(phone) - 4) + phone[-4:]

    # ----------------------------------------------------------------- test helpers: auth

    def add_client(self, client_id: str, client_secret: str) -> None:
        """Register OAuth client credentials accepted by ``POST /oauth/token``."""
        with self._lock:
            self._clients[client_id] = client_secret

    def issue_client_token(
        self, client_id: str | None = None, *, expires_in: int | None = None
    ) -> dict[str, Any]:
        """A client-credentials token response, without an HTTP call."""
        with self._lock:
            ttl = self.access_token_ttl if expires_in is None else expires_in
            return self._tokens.issue_client(client_id, ttl, self.token_scope)

    def issue_user_token(
        self,
        *,
        expires_in: int | None = None,
        refresh_expires_in: int | None = None,
        user_id: int | None = None,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """A user token response (access + refresh) as ``/oauth/token`` would return it.

        ``client_id`` binds the refresh token to that client; None lets any registered client use it.
        """
        with self._lock:
            ttl = self.access_token_ttl if expires_in is None else expires_in
            refresh_ttl = self.refresh_token_ttl if refresh_expires_in is None else refresh_expires_in
            return self._tokens.issue_user(
                user_id or self.user_id, client_id, ttl, refresh_ttl, self.token_scope
            )

    def add_personal_token(self, token: str | None = None, *, user_id: int | None = None) -> str:
        """Register a personal API token (never expires); returns it."""
        with self._lock:
            value = token or self._new_secret()
            self._tokens.add_personal(value, user_id or self.user_id)
            return value

    def revoke_token(self, token: str) -> None:
        """Invalidate an access token, or a refresh token together with its access token."""
        with self._lock:
            self._tokens.revoke(token)

    def add_authorization_code(
        self, code: str, *, redirect_uri: str, client_id: str | None = None, user_id: int | None = None
    ) -> None:
        """A single-use code for the ``authorization_code`` grant."""
        with self._lock:
            self._authorization_codes[code] = CodeGrant(
                code, user_id or self.user_id, client_id, redirect_uri
            )

    def add_registration_code(
        self, email: str, registration_code: str, *, client_id: str | None = None, user_id: int | None = None
    ) -> None:
        """A single-use code for the ``registration_code`` grant (partner-created users)."""
        with self._lock:
            grant = CodeGrant(registration_code, user_id or self.user_id, client_id)
            self._registration_codes[(email.lower(), registration_code)] = grant

    # ----------------------------------------------------------------- test helpers: SCA

    def register_sca_public_key(self, pem: str | bytes) -> None:
        """Accept ``X-Signature`` made with the matching private key (PEM SubjectPublicKeyInfo)."""
        key = load_rsa_public_key(pem)
        with self._lock:
            self._sca_keys.append(key)

    def set_pin(self, pin: str | None, *, user_id: int | None = None) -> None:
        """Set (or with None remove) the PIN checked by PIN verify; the seeded user has ``1234``."""
        with self._lock:
            uid = user_id or self.user_id
            if pin is None:
                self._pins.pop(uid, None)
            else:
                self._pins[uid] = pin

    @property
    def last_ott(self) -> str | None:
        """The most recently issued one-time token, for assertions."""
        with self._lock:
            return next(reversed(self._otts), None)

    def approve_ott(self, ott: str) -> None:
        """Mark every challenge of an OTT passed, skipping the verify endpoints."""
        with self._lock:
            for challenge in self._otts[ott].challenges:
                challenge.passed = True

    # ----------------------------------------------------------------- test helpers: data

    def add_user(self, *, email: str | None = None, phone: str = "+447700900123") -> int:
        with self._lock:
            user_id = self._next_id("user")
            self._users[user_id] = {"email": email or f"user{user_id}@example.com", "phone": phone}
            return user_id

    def add_profile(
        self, type: Literal["PERSONAL", "BUSINESS"] = "PERSONAL", *, user_id: int | None = None, **fields: Any
    ) -> Record:
        """Create a profile (fields override the defaults) and seed its balances; returns it."""
        with self._lock:
            uid = user_id or self.user_id
            profile_id = self._next_id("profile")
            now = format_iso(self.clock.now())
            address = {
                "id": self._next_id("address"),
                "addressFirstLine": "1 Fake Street",
                "city": "London",
                "countryIso2Code": "GB",
                "countryIso3Code": "gbr",
                "postCode": "EC1A 1AA",
                "stateCode": None,
            }
            email = self._users.get(uid, {}).get("email", f"user{uid}@example.com")
            profile: Record = {
                "type": type,
                "id": profile_id,
                "publicId": self._new_secret(),
                "userId": uid,
                "address": address,
                "email": email,
                "createdAt": now,
                "updatedAt": now,
                "currentState": "VISIBLE",
                "contactDetails": {"email": email, "phoneNumber": "+447700900123"},
            }
            if type == "PERSONAL":
                profile.update(
                    avatar=None,
                    firstName="Ada",
                    lastName="Lovelace",
                    preferredName="Ada",
                    dateOfBirth="1990-12-10",
                    phoneNumber="+447700900123",
                    secondaryAddresses=[],
                    fullName="Ada Lovelace",
                )
            else:
                profile.update(
                    businessName="Analytical Engines Ltd",
                    registrationNumber="07209813",
                    descriptionOfBusiness="IT_SERVICES",
                    webpage="https://analytical-engines.example.com",
                    companyType="LIMITED",
                    companyRole="OWNER",
                    businessFreeFormDescription="Software consultancy",
                    firstLevelCategory="IT_SERVICES",
                    secondLevelCategory="SOFTWARE_DEVELOPMENT",
                    operationalAddresses=[],
                    fullName="Analytical Engines Ltd",
                )
            profile.update(fields)
            self.profiles.put(profile_id, profile)
            for currency in DEFAULT_CURRENCIES:
                self.balances[(profile_id, currency)] = DEFAULT_BALANCE
            return public(profile)

    def set_balance(self, profile_id: int, currency: str, amount: Decimal | int | str) -> None:
        with self._lock:
            self.balances[(profile_id, currency)] = Decimal(str(amount))

    def balance(self, profile_id: int, currency: str) -> Decimal:
        with self._lock:
            return self.balances.get((profile_id, currency), Decimal(0))

    def set_rate(self, source: str, target: str, rate: Decimal | float | str) -> None:
        with self._lock:
            self.rates[(source, target)] = Decimal(str(rate))

    def set_transfer_status(self, transfer_id: int, status: str) -> None:
        """Move a transfer to any state, bypassing the simulation's state machine (a test's back door);
        like every status change it queues ``transfers#state-change`` for matching subscriptions."""
        with self._lock:
            record = self.transfers.record(transfer_id)
            if record is None:
                raise KeyError(transfer_id)
            change_status(self, record, status)

    # ----------------------------------------------------------------- test helpers: inspection

    def calls(self, operation_id: str) -> list[RecordedRequest]:
        """Recorded requests routed to one operation."""
        with self._lock:
            return [r for r in self.requests if r.operation_id == operation_id]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    @property
    def operations(self) -> list[str]:
        """operationIds this fake answers: stateful routes first, then the spec-driven ones."""
        return list(dict.fromkeys(r.operation_id for r in self.router.routes))

    def answered(self) -> dict[str, bool]:
        """Every operation of the generated client → whether a request to it reaches its own route.

        Measured by routing: each operation's path, with its parameters filled in, is matched the way
        a real request is, so an operation shadowed by another route counts as unanswered.
        """
        from wise_api.operations import OPERATIONS

        result = {}
        for op in OPERATIONS:
            path = re.sub(r"\{[^}]+\}", "1", op.path)
            matched, _, _ = self.router.match(op.method, path)
            result[op.operation_id] = matched is not None and matched.operation_id == op.operation_id
        return result
