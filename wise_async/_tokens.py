"""Token providers: a static personal token, refreshing OAuth user tokens, client-credentials tokens.

Refresh is single-flight: concurrent tasks that find the token expired (or rejected) wait on one
``anyio.Lock`` and one request to ``/oauth/token``. ``invalidate(used)`` refreshes only if the rejected
token is still the current one, so fifty 401s in flight cause one refresh, not fifty — which matters
because Wise invalidates the previous access token on every refresh. With a shared ``TokenStore``
(``_token_store``; Redis in ``wise_async.redis``) the same holds across processes: the store's refresh
lease makes the refresh single-flight for the fleet, and the others adopt the stored pair.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import field, replace
from typing import Any, Protocol

from ._budget import sleep_with_anyio
from ._exceptions import APIStatusError, ConfigurationError, MissingCredentialsError
from ._header_values import credential_problem
from ._hooks import note_lease_wait, observe_refresh
from ._record import Record, record, set_field
from ._redaction import get_logger
from ._token_store import MemoryTokenStore, TokenKey, TokenStore, TokenStoreError

logger = get_logger("tokens")
DEFAULT_REFRESH_SKEW = 60.0  # seconds before expiry at which a token is refreshed proactively
FAILURE_REUSE_SECONDS = 30.0  # a refused refresh is not retried by concurrent waiters within this window
LEASE_POLL_INITIAL = 0.005  # seconds between store re-reads while another process refreshes, doubling
LEASE_POLL_MAX = 0.1
Clock = Callable[[], float]
TokenRequester = Callable[[Mapping[str, str]], Awaitable["OAuthTokens"]]
TokenRefreshHook = Callable[["OAuthTokens"], "Awaitable[None] | None"]

ASKING_CLIENT: ContextVar[TokenRequester | None] = ContextVar("wise_asking_client", default=None)
"""The ``/oauth/token`` route of the client whose request is asking a provider for a token: a provider
several clients share refreshes through the one that needs it (another may be closed by then)."""


def _hidden(value: object) -> str:
    return "***" if value else repr(value)


@record
class OAuthTokens(Record):
    """What ``/oauth/token`` returned; ``expires_at`` values are Unix timestamps (seconds)."""

    access_token: str = field(repr=False)
    expires_at: float | None = None
    refresh_token: str | None = field(default=None, repr=False)
    refresh_token_expires_at: float | None = None
    token_type: str = "bearer"
    scope: str | None = None

    def __init__(
        self,
        access_token: str,
        expires_at: float | None = None,
        refresh_token: str | None = None,
        refresh_token_expires_at: float | None = None,
        token_type: str = "bearer",
        scope: str | None = None,
    ) -> None:
        set_field(self, "access_token", access_token)
        set_field(self, "expires_at", expires_at)
        set_field(self, "refresh_token", refresh_token)
        set_field(self, "refresh_token_expires_at", refresh_token_expires_at)
        set_field(self, "token_type", token_type)
        set_field(self, "scope", scope)

    def __repr__(self) -> str:
        return (
            f"OAuthTokens(access_token={_hidden(self.access_token)}, expires_at={self.expires_at!r}, "
            f"refresh_token={_hidden(self.refresh_token)}, "
            f"refresh_token_expires_at={self.refresh_token_expires_at!r}, token_type={self.token_type!r}, "
            f"scope={self.scope!r})"
        )

    @classmethod
    def from_response(cls, data: object, *, now: float) -> OAuthTokens:
        """Read Wise's token response; ``ValueError`` if it is not one (HTML page, ``{}``, bad types)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        access_token = data.get("access_token")
        if not isinstance(access_token, str) or not access_token.strip():
            raise ValueError("access_token is missing or not a non-empty string")
        problem = credential_problem(access_token)
        if problem is not None:
            raise ValueError(f"access_token cannot be sent in an HTTP header: {problem}")

        def expiry(seconds_key: str) -> float | None:
            seconds = data.get(seconds_key)
            if seconds is None:
                return None
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float, str)):
                raise ValueError(f"{seconds_key} is not a number")
            value = float(seconds)  # ValueError for non-numeric text
            if not math.isfinite(value):
                raise ValueError(f"{seconds_key} is not a finite number")
            return now + value

        def optional_text(key: str) -> str | None:
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{key} is not a string")
            return value

        return cls(
            access_token=access_token,
            expires_at=expiry("expires_in"),
            refresh_token=optional_text("refresh_token") or None,
            refresh_token_expires_at=expiry("refresh_token_expires_in"),
            token_type=optional_text("token_type") or "bearer",
            scope=optional_text("scope"),
        )


class TokenProvider(Protocol):
    """Supplies bearer tokens to the auth flow."""

    async def get_token(self) -> str: ...

    async def invalidate(self, used_token: str) -> bool:
        """Wise rejected ``used_token``; return True if a different token is now available."""
        ...


class PersonalToken:
    """A personal API token: static, never refreshed."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ConfigurationError("personal token must not be empty")
        self._token = token

    def __repr__(self) -> str:
        return "PersonalToken(token='***')"

    async def get_token(self) -> str:
        return self._token

    async def invalidate(self, used_token: str) -> bool:
        return False


class _RefreshingProvider:
    """Shared machinery: a token pair kept in a :class:`TokenStore` (a private in-memory one unless the
    client was given a shared store), early refresh by ``skew``, one refresh at a time.

    One refresh at a time holds twice: inside this process (an ``anyio.Lock``) and across every user
    of the store (its refresh lease). Before refreshing, the store is re-read: if it holds a pair other
    than the one that was used (another process refreshed), that pair is adopted and Wise is not asked.
    """

    def __init__(
        self, *, clock: Clock, skew: float, store: TokenStore | None = None, key: TokenKey | None = None
    ) -> None:
        self._clock = clock
        self._skew = skew
        from anyio import Lock  # at construction: import wise_async does not load anyio (see _budget)

        self._lock = Lock()
        self._tokens: OAuthTokens | None = None
        self._seed: OAuthTokens | None = None
        self._loaded = False
        self._store: TokenStore = (
            store if store is not None else MemoryTokenStore(clock=lambda: self._clock())
        )
        self._key = key or TokenKey("")
        self._requester: TokenRequester | None = None
        self._failure: tuple[str | None, float, Exception] | None = None
        self.refresh_count = 0

    def bind(self, requester: TokenRequester, clock: Clock | None = None) -> None:
        """Called by ``WiseClient``: how to reach ``/oauth/token`` (and, in tests, whose clock)."""
        self._requester = requester
        if clock is not None:
            self._clock = clock

    @property
    def tokens(self) -> OAuthTokens | None:
        """The pair this process last read from (or wrote to) the store."""
        return self._tokens

    def _is_stale(self, tokens: OAuthTokens | None) -> bool:
        if tokens is None:
            return True
        return tokens.expires_at is not None and tokens.expires_at - self._skew <= self._clock()

    def _replaces(self, tokens: OAuthTokens | None, used: str | None) -> bool:
        """``tokens`` is a usable pair other than the one whose access token was ``used``."""
        return tokens is not None and tokens.access_token != used and not self._is_stale(tokens)

    async def _load(self) -> None:
        """First use: seed the store with the pair the provider was built with, unless it has one."""
        async with self._lock:
            if self._loaded:
                return
            if self._seed is not None:
                await self._store.add(self._key, self._seed)
            self._tokens = await self._store.load(self._key) or self._seed
            self._loaded = True

    async def get_token(self) -> str:
        if not self._loaded:
            await self._load()
        tokens = self._tokens
        if self._is_stale(tokens):
            used = tokens.access_token if tokens is not None else None
            await observe_refresh(lambda: self._refresh(used), "expired" if used is not None else "initial")
        assert self._tokens is not None
        return self._tokens.access_token

    async def invalidate(self, used_token: str) -> bool:
        await observe_refresh(lambda: self._refresh(used_token), "rejected")
        return True

    async def _refresh(self, used: str | None) -> bool:
        """Make ``self._tokens`` a usable pair other than ``used``: adopt one from the store, or take
        the refresh lease and renew (True). Waiters poll the store, so a dead lease holder costs at most
        the store's lease time."""
        async with self._lock:
            if self._replaces(self._tokens, used):
                return False  # another task of this process already did it
            delay = LEASE_POLL_INITIAL
            while True:
                current = await self._store.load(self._key)
                if self._replaces(current, used):
                    self._tokens = current
                    return False
                lease = await self._store.try_lease(self._key)
                if lease is not None:
                    break
                note_lease_wait(delay)
                await sleep_with_anyio(delay)
                delay = min(delay * 2, LEASE_POLL_MAX)
            async with lease:
                current = await self._store.load(self._key)
                if self._replaces(current, used):
                    self._tokens = current
                    return False
                if current is not None:
                    self._tokens = current
                try:
                    new = await self._renew_or_share_failure()
                except APIStatusError as exc:
                    # A refresh token already used elsewhere (e.g. by a holder whose lease ran out
                    # mid-refresh) is refused; that holder's newer pair may be in the store by now.
                    current = await self._store.load(self._key) if exc.status_code == 400 else None
                    if self._replaces(current, used):
                        self._tokens = current
                        return False
                    raise
                self._tokens = new
                try:
                    await self._store.save(self._key, new)
                except TokenStoreError as exc:
                    # This process holds a working pair, so its call goes on; the hook below still
                    # hands the pair to the app. Others read the old pair until the next save.
                    logger.error("refreshed tokens for %s could not be stored: %s", self._key, exc)
            await self._refreshed(new)
        return True

    async def _refreshed(self, tokens: OAuthTokens) -> None:
        """Runs once per refresh, fleet-wide: only in the process that renewed."""

    async def _renew_or_share_failure(self) -> OAuthTokens:
        """Renew under the lock; if Wise just refused to (a revoked refresh token, a bad client secret),
        tasks queued behind the failed attempt get the same error instead of asking Wise again."""
        current = self._tokens.access_token if self._tokens is not None else None
        if self._failure is not None:
            token, at, error = self._failure
            if token == current and self._clock() - at < FAILURE_REUSE_SECONDS:
                raise error
        try:
            tokens = await self._renew()
        except APIStatusError as exc:
            if 400 <= exc.status_code < 500:
                self._failure = (current, self._clock(), exc)
            raise
        self._failure = None
        return tokens

    async def _request(self, form: Mapping[str, str]) -> OAuthTokens:
        requester = ASKING_CLIENT.get() or self._requester
        if requester is None:
            raise MissingCredentialsError("token provider is not attached to a WiseClient")
        tokens = await requester(form)
        self.refresh_count += 1
        return tokens

    async def _renew(self) -> OAuthTokens:
        raise NotImplementedError


class TokensNotFoundError(MissingCredentialsError, LookupError):
    """A provider was pointed at a token store that holds no pair for its key, and was given none."""


class UserTokens(_RefreshingProvider):
    """An OAuth user token pair (authorization_code / registration_code grants).

    Refreshed before ``expires_at`` (less ``skew``) and after a 401; ``on_token_refresh`` receives every
    new pair so the application can persist it: after a refresh the old access token no longer works.

    With a shared ``store`` (e.g. ``wise_async.redis.RedisTokenStore``) the pair lives under ``key`` for
    every process: the pair given here only seeds an empty store, the tokens may be omitted when the
    store already holds them, and ``on_token_refresh`` fires in the one process that refreshed.
    """

    def __init__(
        self,
        access_token: str | None = None,
        refresh_token: str | None = None,
        *,
        expires_at: float | None = None,
        on_token_refresh: TokenRefreshHook | None = None,
        clock: Clock = time.time,
        skew: float = DEFAULT_REFRESH_SKEW,
        store: TokenStore | None = None,
        key: TokenKey | None = None,
    ) -> None:
        if (access_token is None) != (refresh_token is None):
            raise ConfigurationError(
                "give both access_token and refresh_token, or neither (to read them from store)"
            )
        if access_token is None and (store is None or key is None):
            raise ConfigurationError("UserTokens without tokens needs a store and a key to read them from")
        if key is not None and key.user is None:
            raise ConfigurationError("a user token key needs a user (TokenKey(client_id, user))")
        super().__init__(clock=clock, skew=skew, store=store, key=key or TokenKey("", ""))
        if access_token is not None:
            self._tokens = self._seed = OAuthTokens(
                access_token=access_token, refresh_token=refresh_token, expires_at=expires_at
            )
        self._on_refresh = on_token_refresh

    @classmethod
    def from_tokens(cls, tokens: OAuthTokens, **kwargs: Any) -> UserTokens:
        if tokens.refresh_token is None:
            raise ConfigurationError("a user token pair needs a refresh_token")
        provider = cls(tokens.access_token, tokens.refresh_token, expires_at=tokens.expires_at, **kwargs)
        provider._tokens = provider._seed = tokens  # keep scope and refresh-token expiry
        return provider

    async def replace(self, tokens: OAuthTokens) -> None:
        """Store a brand-new pair (a fresh authorization) for every process, replacing the old one."""
        async with self._lock:
            await self._store.save(self._key, tokens)
            self._tokens = tokens
            self._loaded = True

    def __repr__(self) -> str:
        expires = self._tokens.expires_at if self._tokens else None
        return f"UserTokens(access_token='***', refresh_token='***', expires_at={expires!r})"

    async def _renew(self) -> OAuthTokens:
        if self._tokens is None or self._tokens.refresh_token is None:
            raise TokensNotFoundError(f"no user tokens stored for {self._key}")
        new = await self._request(
            {"grant_type": "refresh_token", "refresh_token": self._tokens.refresh_token}
        )
        if new.refresh_token is None:  # keep the refresh token if Wise did not rotate it
            new = replace(new, refresh_token=self._tokens.refresh_token)
        return new

    async def _refreshed(self, tokens: OAuthTokens) -> None:
        if self._on_refresh is not None:
            result = self._on_refresh(tokens)
            if inspect.isawaitable(result):
                await result


class ClientCredentials(_RefreshingProvider):
    """An application token from the client_credentials grant; fetched again when it expires.

    With a shared ``store`` and ``client_id``, one token serves every process of the fleet.
    """

    def __init__(
        self,
        *,
        clock: Clock = time.time,
        skew: float = DEFAULT_REFRESH_SKEW,
        store: TokenStore | None = None,
        client_id: str = "",
    ) -> None:
        super().__init__(clock=clock, skew=skew, store=store, key=TokenKey(client_id))

    def __repr__(self) -> str:
        return f"ClientCredentials(cached={self._tokens is not None})"

    async def _renew(self) -> OAuthTokens:
        return await self._request({"grant_type": "client_credentials"})
