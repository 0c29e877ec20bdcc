"""``WiseClient``: configuration, the httpx stack, and the generated typed namespaces.

The stack, built once::

    httpx.AsyncClient(auth=WiseAuth(...), transport=JoseTransport(RetryingTransport(real or fake transport)))

so every one of the generated operations — through ``wise.<namespace>.<method>()`` or by calling a
``wise_api`` function with ``wise.low_level_client`` — gets the same auth, SCA, retries, idempotency
keys and correlation ids.
"""

from __future__ import annotations

import copy
import functools
import os
import ssl
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from wise_api.facade import GeneratedNamespaces

from ._api_version import check_api_version
from ._auth import SCA_SIDE_REQUEST, Credentials, WiseAuth
from ._body import DEFAULT_MAX_RESPONSE_BYTES
from ._budget import run_within
from ._environment import Environment, EnvironmentName, resolve_environment
from ._exceptions import (
    APIResponseValidationError,
    APITimeoutError,
    AuthorizationError,
    ClientClosedError,
    ConfigurationError,
    InvalidRequestError,
    MissingCredentialsError,
    WiseError,
    make_status_error,
)
from ._header_values import check_header_fields, clean_credential
from ._hooks import Hooks, HookSet
from ._http_client import DEFAULT_LIMITS, OwnedHttpClient, default_transport
from ._jose_transport import JoseSupport
from ._operations import OperationTable, default_table
from ._options import (
    DEFAULT_TIMEOUT,
    ClientDefaults,
    Timeout,
    apply_options,
    budget_of,
    check_options,
    phase_timeout,
)
from ._paginated_client import PaginationMixin
from ._rate_limit import RateLimitedTransport, RateLimiter
from ._retry import RetryPolicy
from ._sca import RaiseScaRequired, ScaHandler
from ._settings import EnvironmentSettings
from ._token_store import TokenKey, TokenStore
from ._tokens import (
    ClientCredentials,
    Clock,
    OAuthTokens,
    PersonalToken,
    TokenProvider,
    TokenRefreshHook,
    UserTokens,
)
from ._transport import RetryingTransport, connection_error
from ._version import __version__

if TYPE_CHECKING:
    from wise_api.client import AuthenticatedClient

    from ._jose import ClientKeyPair
    from .cards import CardSecrets
    from .files import Files
    from .jose import JoseKeyring
    from .payouts import Payouts
    from .recipient_forms import RecipientForms
    from .sandbox import Sandbox
    from .statements import BalanceStatements
    from .transfer_states import TransferStates

T = TypeVar("T")
USER_AGENT = f"wise-async/{__version__}"
# Encodings ``_body.read_bounded`` inflates within the size cap (httpx would also offer br/zstd).
ACCEPT_ENCODING = "gzip, deflate"


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """One TLS context per process (certifi's CA bundle, as httpx's default): building one costs ~15 ms,
    so every ``WiseClient`` after the first gets its transport for free."""
    return httpx.create_ssl_context()


def client_certificate_context(cert: str | tuple[str, str] | tuple[str, str, str]) -> ssl.SSLContext:
    """A TLS context presenting a client certificate (Wise's mTLS hosts): ``cert`` is the PEM file with
    certificate and key, or ``(certfile, keyfile)``, or ``(certfile, keyfile, password)``."""
    context = httpx.create_ssl_context()
    if isinstance(cert, str):
        context.load_cert_chain(cert)
    else:
        context.load_cert_chain(*cert)
    return context


_NO_OPTIONS: Mapping[str, Any] = MappingProxyType({})
_BODY_KEYS = frozenset({"json", "content", "data", "files"})
SendRequest = Callable[[dict[str, Any]], Awaitable[httpx.Response]]
"""Sends one request (httpx ``request`` keywords) of a ``WiseClient._logical_call``."""


class NotGiven:
    """Sentinel: an option left as the client has it (``None`` is a value: no timeout)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


def _request_of(exc: httpx.HTTPError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:
        return None


class WiseClient(GeneratedNamespaces, PaginationMixin):
    """Async client for the Wise Platform API; use as ``async with WiseClient(...) as wise:``.

    Credentials (any combination):
      * ``personal_token`` — a personal API token;
      * ``access_token`` + ``refresh_token`` (+ ``expires_at``, ``on_token_refresh``) — an OAuth user
        token, refreshed before expiry and after a 401;
      * ``client_id`` + ``client_secret`` — Basic auth for ``/oauth/token`` and client-credentials
        tokens, used automatically for operations that accept only those.

    Several processes (workers, pods): ``token_store`` (e.g. ``wise_async.redis.RedisTokenStore``) +
    ``user_key`` share one user token pair and one client-credentials token, refreshed once for all;
    ``rate_limiter`` (e.g. ``wise_async.redis.RedisRateLimiter``) paces every attempt against one budget.

    ``jose_keys`` (a :class:`~wise_async.jose.JoseKeyring`, or an RSA ``ClientKeyPair``) turns on JOSE for
    the operations that speak it (SCA PIN / device fingerprint, playgrounds); see ``wise_async.jose``.

    ``hooks`` (:class:`~wise_async.Hooks` instances, e.g. ``wise_async.otel.OpenTelemetryHooks()``) are
    told about every logical call: its attempts, retries, token refreshes and SCA challenges.

    ``api_version="2026Q3"`` pins the operations Wise has moved to calendar versions (paths such as
    ``/2026Q4/...`` in the bundle) to that quarter; by default each goes where the bundle says.

    Connections: on asyncio the client sends through aiohttp's connection pool, on trio through httpx's;
    ``limits`` (an ``httpx.Limits``, default ``DEFAULT_LIMITS``: 100 connections, all kept alive, idle
    ones closed after 5 s), ``cert`` (mTLS) and ``ssl_context`` configure it. ``transport=`` (any httpx
    transport, e.g. ``httpx.AsyncHTTPTransport()`` for httpcore on asyncio too) or ``http_client=``
    replace it.
    """

    def __init__(
        self,
        *,
        personal_token: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        expires_at: float | None = None,
        on_token_refresh: TokenRefreshHook | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_provider: TokenProvider | None = None,
        environment: EnvironmentName | Environment | None = None,
        base_url: str | None = None,
        twcard_base_url: str | None = None,
        timeout: Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        retry_policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        sca_handler: ScaHandler | None = None,
        optional_idempotency_headers: bool = True,
        clock: Clock = time.time,
        operations: OperationTable | None = None,
        jose_keys: JoseKeyring | ClientKeyPair | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        allow_insecure_http: bool = False,
        api_version: str | None = None,
        token_store: TokenStore | None = None,
        user_key: str | None = None,
        rate_limiter: RateLimiter | None = None,
        default_headers: Mapping[str, str] | None = None,
        cert: str | tuple[str, str] | tuple[str, str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        hooks: Sequence[Hooks] | None = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
    ) -> None:
        settings = EnvironmentSettings.read()
        if personal_token is None and access_token is None and token_provider is None:
            personal_token = settings.api_token
        client_id = client_id if client_id is not None else settings.client_id
        client_secret = client_secret if client_secret is not None else settings.client_secret
        personal_token = clean_credential("personal_token", personal_token, ConfigurationError)
        access_token = clean_credential("access_token", access_token, ConfigurationError)
        refresh_token = clean_credential("refresh_token", refresh_token, ConfigurationError)
        client_id = clean_credential("client_id", client_id, ConfigurationError)
        client_secret = clean_credential("client_secret", client_secret, ConfigurationError)
        if environment is None and base_url is None:
            environment, base_url = settings.environment, settings.base_url
        settings.configure_logging()
        self.environment = resolve_environment(
            environment, base_url, twcard_base_url, allow_insecure_http=allow_insecure_http
        )
        check_header_fields("default_headers", default_headers or {}, ConfigurationError)
        self._defaults = ClientDefaults(timeout=timeout, headers=dict(default_headers or {}))
        self._clock = clock
        self._hooks = HookSet.of(hooks)
        self.api_version = check_api_version(api_version)
        """The calendar version (``"2026Q4"``) pinned for operations Wise has moved; None: the bundle's."""
        self._on_token_refresh = on_token_refresh  # also for pairs adopted from code exchanges
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_store = token_store
        self._user_key = TokenKey(client_id or "", user_key) if user_key is not None else None
        if token_store is not None and user_key is None and access_token is not None:
            raise ConfigurationError("token_store needs user_key: the key of this user's tokens in the store")
        user = token_provider
        if user is None and personal_token is not None:
            user = PersonalToken(personal_token)
        if user is None and access_token is not None and refresh_token is None:
            user = PersonalToken(access_token)  # a bare access token cannot be refreshed
        elif user is None and (access_token is not None or (token_store is not None and self._user_key)):
            user = UserTokens(
                access_token,
                refresh_token,
                expires_at=expires_at,
                on_token_refresh=on_token_refresh,
                clock=clock,
                store=token_store,
                key=self._user_key,
            )
        client_credentials = (
            ClientCredentials(clock=clock, store=token_store, client_id=client_id)
            if client_id and client_secret
            else None
        )
        for provider in (user, client_credentials):
            if isinstance(provider, (UserTokens, ClientCredentials)):
                provider.bind(self._request_token)
        self._credentials = Credentials(
            user=user, client_credentials=client_credentials, client_id=client_id, client_secret=client_secret
        )
        self.sca_handler: ScaHandler = sca_handler or RaiseScaRequired()
        self._auth = WiseAuth(
            credentials=self._credentials,
            operations=operations or default_table(),
            environment=self.environment,
            sca_handler=self.sca_handler,
            send_raw=self._send_raw,
            request_token=self._request_token,
            optional_idempotency_headers=optional_idempotency_headers,
            api_version=self.api_version,
        )
        self._jose = JoseSupport(jose_keys, operation_for=self._auth.operation_for)
        policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self._retry_policy = policy
        self._max_response_bytes = max_response_bytes
        self._owns_http = http_client is None
        if http_client is not None:
            # The caller's client keeps its pool, proxies, limits, headers and base_url (a gateway);
            # we set its auth to our flow and wrap its transport in our retrying layer, and never close it.
            http_client._transport = self._jose.wrap(
                RetryingTransport(
                    self._limited(http_client._transport, rate_limiter),
                    policy=policy,
                    max_response_bytes=max_response_bytes,
                )
            )
            http_client.auth = self._auth
            if not str(http_client.base_url):
                http_client.base_url = httpx.URL(self.environment.base_url)
            self._http = http_client
        else:
            if transport is None:
                if ssl_context is None:
                    ssl_context = client_certificate_context(cert) if cert else default_ssl_context()
                transport = default_transport(ssl_context, limits, settings.http_backend)
            elif cert is not None or ssl_context is not None or limits is not DEFAULT_LIMITS:
                raise ConfigurationError(
                    "cert=, ssl_context= and limits= configure the default transport; not with transport="
                )
            self._http = OwnedHttpClient(
                base_url=self.environment.base_url,
                auth=self._auth,
                transport=self._jose.wrap(
                    RetryingTransport(
                        self._limited(transport, rate_limiter),
                        policy=policy,
                        max_response_bytes=max_response_bytes,
                    )
                ),
                timeout=phase_timeout(timeout),
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
            )
        self._low_level: AuthenticatedClient | None = None  # made on first use (imports wise_api.client)
        self._shared_state: dict[str, Any] = {}  # kept by derived clients: the payout store, the state hub
        self._jose.bind(self)

    def _limited(
        self, transport: httpx.AsyncBaseTransport, limiter: RateLimiter | None
    ) -> httpx.AsyncBaseTransport:
        """Every attempt (retries and token requests too) takes a slot from the client's budget."""
        if limiter is None:
            return transport
        return RateLimitedTransport(transport, limiter, bucket=self._client_id or "default")

    def __repr__(self) -> str:
        return f"WiseClient(environment={self.environment.name!r}, credentials={self._credentials!r})"

    async def __aenter__(self) -> WiseClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool this client created (not one you passed, nor a derived client's)."""
        if self._owns_http:
            await self._http.aclose()

    def with_options(
        self,
        *,
        timeout: Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        sca_handler: ScaHandler | NotGiven = NOT_GIVEN,
    ) -> WiseClient:
        """A client with other defaults that shares this one's connection pool, credentials and caches.

        Closing the derived client leaves the pool open; closing this one closes it for both.
        """
        derived = copy.copy(self)
        for cls in type(self).__mro__:  # namespaces and helpers cached on this client are bound to it
            for name, attribute in vars(cls).items():
                if isinstance(attribute, cached_property):
                    derived.__dict__.pop(name, None)
        defaults = self._defaults
        if not isinstance(timeout, NotGiven):
            defaults = replace(defaults, timeout=timeout)
        if not isinstance(max_retries, NotGiven):
            check_options({"max_retries": max_retries})
            defaults = replace(defaults, max_retries=max_retries)
        if not isinstance(default_headers, NotGiven):
            defaults = replace(defaults, headers={**defaults.headers, **default_headers})
        if not isinstance(sca_handler, NotGiven):
            defaults = replace(defaults, sca_handler=sca_handler)
            derived.sca_handler = sca_handler
        derived._defaults = replace(defaults, sca_send=derived._send_raw)
        derived._owns_http = False
        return derived

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The configured httpx client (auth flow + retrying transport), for raw requests."""
        return self._http

    @property
    def low_level_client(self) -> AuthenticatedClient:
        """Pass as ``client=`` to any ``wise_api`` function; it shares this client's httpx stack."""
        low_level = self._low_level
        if low_level is None:
            from wise_api.client import AuthenticatedClient

            low_level = AuthenticatedClient(base_url=self.environment.base_url, token="")
            low_level.set_async_httpx_client(self._http)
            self._low_level = low_level
        return low_level

    @cached_property
    def jose_keys(self) -> JoseKeyring:
        """JOSE keys: the client's own (upload them) and Wise's (fetched on first use, cached).

        A derived client (``with_options``) gets a view of the same keyring and key cache that sends
        with its own defaults.
        """
        return self._jose.keyring.for_client(self)

    @cached_property
    def card_secrets(self) -> CardSecrets:
        """Card details, card PIN and preset PIN over the twcard host (``wise_async.cards``).

        Derived clients share the card key cache (and ``alg``) and send with their own defaults.
        """
        from .cards import CardSecrets

        return CardSecrets(self, keys=self._jose.card_keys)

    @cached_property
    def statements(self) -> BalanceStatements:
        """Balance statements in every format, over any range (:mod:`wise_async.statements`)."""
        from .statements import BalanceStatements

        return BalanceStatements(self)

    @cached_property
    def files(self) -> Files:
        """Transfer PDFs and multipart uploads (:mod:`wise_async.files`)."""
        from .files import Files

        return Files(self)

    @cached_property
    def payouts(self) -> Payouts:
        """Crash-safe payouts by key (:mod:`wise_async.payouts`), their state in a ``MemoryPayoutStore``
        shared with derived clients (``with_options``); ``Payouts(wise, store=...)`` for a durable one."""
        from .payouts import MemoryPayoutStore, Payouts

        store = self._shared_state.setdefault("payout_store", MemoryPayoutStore())
        return Payouts(self, store=store)

    @cached_property
    def transfer_states(self) -> TransferStates:
        """Wait for a transfer's state: webhook events first, polling as the fallback
        (:mod:`wise_async.transfer_states`)."""
        from .transfer_states import TransferStateHub, TransferStates

        return TransferStates(self, hub=self._shared_state.setdefault("transfer_hub", TransferStateHub()))

    @cached_property
    def sandbox(self) -> Sandbox:
        """Drive a sandbox transfer through Wise's simulation endpoints (:mod:`wise_async.sandbox`)."""
        from .sandbox import Sandbox

        return Sandbox(self)

    @cached_property
    def recipient_forms(self) -> RecipientForms:
        """Recipient forms from Wise's account requirements (:mod:`wise_async.recipient_forms`)."""
        from .recipient_forms import RecipientForms

        return RecipientForms(self)

    @property
    def _generated_client(self) -> AuthenticatedClient:
        return self._low_level or self.low_level_client

    @property
    def user_tokens(self) -> OAuthTokens | None:
        """The current OAuth user token pair, if the client holds one (e.g. after a refresh)."""
        provider = self._credentials.user
        return provider.tokens if isinstance(provider, UserTokens) else None

    def _send_operation(
        self,
        request_kwargs: dict[str, Any],
        *,
        operation_id: str,
        options: Mapping[str, Any] = _NO_OPTIONS,
    ) -> Awaitable[httpx.Response]:
        # A plain function returning the call to await (as ``_within_budget``, and ``_prepared_send``
        # rather than ``request``): no coroutine frames of ours but the budget's between the caller and
        # the transports on every resumption of every call.
        request_kwargs, budget = apply_options(request_kwargs, self._defaults, options)
        http = self._http
        sending = (
            http._prepared_send(request_kwargs)
            if isinstance(http, OwnedHttpClient)
            else http.request(**request_kwargs)
        )
        return self._within_budget(sending, budget, operation_id)

    async def _logical_call(
        self,
        run: Callable[[SendRequest], Awaitable[T]],
        *,
        operation_id: str,
        options: Mapping[str, Any] = _NO_OPTIONS,
    ) -> T:
        """One logical call made of several requests (a card secret: key fetch, POST, one re-encrypted
        POST; a JOSE key): ``run`` gets a ``send`` for each of its requests.

        Every request gets the client's defaults and the call's ``options`` (``apply_options``, as for
        an operation; ``extra_body`` only where a request has a body), and all of them run under one
        budget, with the closed-client check and typed errors of ``_within_budget``.
        """
        if options:
            check_options(options)
        budget = budget_of(options.get("timeout", self._defaults.timeout))
        bodyless = {k: v for k, v in options.items() if k != "extra_body"}

        async def send(request_kwargs: dict[str, Any]) -> httpx.Response:
            has_body = not _BODY_KEYS.isdisjoint(request_kwargs)
            request_kwargs, _ = apply_options(
                request_kwargs, self._defaults, options if has_body else bodyless
            )
            return await self._http.request(**request_kwargs)

        return await self._within_budget(run(send), budget, operation_id)

    async def _download(
        self,
        request_kwargs: dict[str, Any],
        *,
        operation_id: str,
        to: str | os.PathLike[str],
        options: Mapping[str, Any] = _NO_OPTIONS,
    ) -> Path:
        from ._download import download_to  # with anyio's file I/O: loaded by the first download

        request_kwargs, budget = apply_options(request_kwargs, self._defaults, options)
        download = download_to(
            self._http, request_kwargs, to=to, policy=self._retry_policy, max_bytes=self._max_response_bytes
        )
        return await self._within_budget(download, budget, operation_id)

    def _within_budget(self, call: Awaitable[T], budget: float | None, operation_id: str) -> Awaitable[T]:
        """One logical call to await (told to the client's hooks, if any)."""
        hooks = self._hooks
        if hooks is not None and hooks.wanted():
            return hooks.observe(operation_id, self._budgeted(call, budget, operation_id))
        return self._budgeted(call, budget, operation_id)

    async def _budgeted(self, call: Awaitable[T], budget: float | None, operation_id: str) -> T:
        """Closed-client check, the whole-call budget, typed errors only."""
        if self._http.is_closed:
            close = getattr(call, "close", None)
            if close is not None:
                close()  # the coroutine never started
            raise ClientClosedError("this WiseClient is closed; create a new one")
        try:
            if budget is None:
                return await call
            return await run_within(budget, call)
        except TimeoutError:
            raise APITimeoutError(
                f"{operation_id}: no complete answer within the call's {budget:g}s budget"
            ) from None
        except WiseError:
            raise
        except httpx.InvalidURL as exc:
            raise InvalidRequestError(f"{operation_id}: invalid URL: {exc}") from None
        except (httpx.TransportError, httpx.DecodingError) as exc:  # a transport of the caller's, unwrapped
            raise connection_error(exc, _request_of(exc)) from exc

    async def _send_raw(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        return await self._send_operation(
            {
                "method": method,
                "url": path,
                "headers": headers,
                "json": json,
                "content": content,
                "extensions": {SCA_SIDE_REQUEST: True},
            },
            operation_id=self._operation_id_of(method, path),
        )

    def _operation_id_of(self, method: str, path: str) -> str:
        """The operationId of a request the SDK sends itself (the SCA handler's), else method and path."""
        op = self._auth.operation_at(method, path)
        return op.operation_id if op is not None else f"{method} {path}"

    async def _request_token(self, form: Mapping[str, str]) -> OAuthTokens:
        """POST /oauth/token with HTTP Basic client credentials (form body, as Wise requires)."""
        if not (self._client_id and self._client_secret):
            raise MissingCredentialsError(
                "client_id and client_secret are needed to obtain or refresh OAuth tokens"
            )
        request = {
            "method": "POST",
            "url": "/oauth/token",
            "data": dict(form),
            "auth": httpx.BasicAuth(self._client_id, self._client_secret),
        }
        response = await self._send_operation(request, operation_id="oauthTokenCreate")
        if not response.is_success:
            raise make_status_error(response)
        try:
            return OAuthTokens.from_response(response.json(), now=self._clock())
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            raise APIResponseValidationError(
                response, f"oauthTokenCreate: unusable token response ({exc})"
            ) from None

    def authorization_url(self, redirect_uri: str, *, state: str, **params: str) -> str:
        """Wise's authorization page for your user, for this environment (the sandbox's host differs from
        its API host). ``state`` is your CSRF token: keep it in the user's session and give it to
        :meth:`complete_authorization`. Extra ``params`` (e.g. ``claim_account_code``) are passed along."""
        if not self._client_id:
            raise MissingCredentialsError("authorization_url needs client_id (or WISE_CLIENT_ID)")
        if not state:
            raise InvalidRequestError("state must be a non-empty value you check on the way back")
        query = {"client_id": self._client_id, "redirect_uri": redirect_uri, "state": state, **params}
        base = self.environment.authorize_url or f"{self.environment.base_url}/oauth/authorize/"
        return f"{base}?{urllib.parse.urlencode(query)}"

    async def complete_authorization(
        self, callback_url: str, *, state: str, redirect_uri: str, use: bool = True
    ) -> OAuthTokens:
        """Finish the authorization-code flow from the URL Wise redirected your user to.

        Checks that its ``state`` is the one you sent (``AuthorizationError`` otherwise, or if the user
        declined), then exchanges the code for a token pair (used from then on, by default). The
        redirect's ``profileId`` is the profile the user granted: read it from ``callback_url``.
        """
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(callback_url).query)
        returned = query.get("state", [""])[0]
        import hmac

        if not state or not hmac.compare_digest(returned.encode(), state.encode()):
            raise AuthorizationError("the redirect's state does not match the one sent: refusing the code")
        if "error" in query:
            raise AuthorizationError(f"Wise did not authorize: {query['error'][0]}")
        code = query.get("code", [""])[0]
        if not code:
            raise AuthorizationError("the redirect carries no code")
        return await self.exchange_authorization_code(code, redirect_uri, use=use)

    async def exchange_authorization_code(
        self, code: str, redirect_uri: str, *, use: bool = True
    ) -> OAuthTokens:
        """Trade the code from Wise's authorization page for a user token pair (and use it, by default)."""
        tokens = await self._request_token(
            {
                "grant_type": "authorization_code",
                "client_id": self._client_id or "",
                "code": code,
                "redirect_uri": redirect_uri,
            }
        )
        return await self._adopt(tokens, use)

    async def exchange_registration_code(
        self, email: str, registration_code: str, *, use: bool = True
    ) -> OAuthTokens:
        """Trade a partner registration code for a user token pair (and use it, by default)."""
        tokens = await self._request_token(
            {
                "grant_type": "registration_code",
                "client_id": self._client_id or "",
                "email": email,
                "registration_code": registration_code,
            }
        )
        return await self._adopt(tokens, use)

    async def _adopt(self, tokens: OAuthTokens, use: bool) -> OAuthTokens:
        if use:
            provider = UserTokens.from_tokens(
                tokens,
                clock=self._clock,
                on_token_refresh=self._on_token_refresh,
                store=self._token_store,
                key=self._user_key,
            )
            provider.bind(self._request_token)
            if self._token_store is not None and self._user_key is not None:
                await provider.replace(tokens)  # a new authorization replaces the stored pair fleet-wide
            self._credentials.user = provider
        return tokens
