"""Token providers: a static personal token, refreshing OAuth user tokens, client-credentials tokens.

Refresh is single-flight: concurrent tasks that find the token expired (or rejected) wait on one
``anyio.Lock`` and one request to ``/oauth/token``. ``invalidate(used)`` refreshes only if the rejected
token is still the current one, so fifty 401s in flight cause one refresh, not fifty — which matters
because Wise invalidates the previous access token on every refresh.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import anyio
import attrs

from ._exceptions import APIStatusError, MissingCredentialsError

DEFAULT_REFRESH_SKEW = 60.0  # seconds before expiry at which a token is refreshed proactively
FAILURE_REUSE_SECONDS = 30.0  # a refused refresh is not retried by concurrent waiters within this window
Clock = Callable[[], float]
TokenRequester = Callable[[Mapping[str, str]], Awaitable["OAuthTokens"]]
TokenRefreshHook = Callable[["OAuthTokens"], "Awaitable[None] | None"]


def _hidden(value: object) -> str:
    return "***" if value else repr(value)


@attrs.frozen
class OAuthTokens:
    """What ``/oauth/token`` returned; ``expires_at`` values are Unix timestamps (seconds)."""

    access_token: str = attrs.field(repr=_hidden)
    expires_at: float | None = None
    refresh_token: str | None = attrs.field(default=None, repr=_hidden)
    refresh_token_expires_at: float | None = None
    token_type: str = "bearer"
    scope: str | None = None

    @classmethod
    def from_response(cls, data: object, *, now: float) -> OAuthTokens:
        """Read Wise's token response; ``ValueError`` if it is not one (HTML page, ``{}``, bad types)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        access_token = data.get("access_token")
        if not isinstance(access_token, str) or not access_token.strip():
            raise ValueError("access_token is missing or not a non-empty string")

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
            raise ValueError("personal token must not be empty")
        self._token = token

    def __repr__(self) -> str:
        return "PersonalToken(token='***')"

    async def get_token(self) -> str:
        return self._token

    async def invalidate(self, used_token: str) -> bool:
        return False


class _RefreshingProvider:
    """Shared machinery: cached tokens, early refresh by ``skew``, one refresh at a time."""

    def __init__(self, *, clock: Clock, skew: float) -> None:
        self._clock = clock
        self._skew = skew
        self._lock = anyio.Lock()
        self._tokens: OAuthTokens | None = None
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
        return self._tokens

    def _stale(self) -> bool:
        tokens = self._tokens
        if tokens is None:
            return True
        return tokens.expires_at is not None and tokens.expires_at - self._skew <= self._clock()

    async def get_token(self) -> str:
        if self._stale():
            async with self._lock:
                if self._stale():
                    await self._renew_or_share_failure()
        assert self._tokens is not None
        return self._tokens.access_token

    async def invalidate(self, used_token: str) -> bool:
        async with self._lock:
            if self._tokens is not None and self._tokens.access_token != used_token:
                return True  # another task already replaced it
            await self._renew_or_share_failure()
        return True

    async def _renew_or_share_failure(self) -> None:
        """Renew under the lock; if Wise just refused to (a revoked refresh token, a bad client secret),
        tasks queued behind the failed attempt get the same error instead of asking Wise again."""
        current = self._tokens.access_token if self._tokens is not None else None
        if self._failure is not None:
            token, at, error = self._failure
            if token == current and self._clock() - at < FAILURE_REUSE_SECONDS:
                raise error
        try:
            await self._renew()
        except APIStatusError as exc:
            if 400 <= exc.status_code < 500:
                self._failure = (current, self._clock(), exc)
            raise
        self._failure = None

    async def _request(self, form: Mapping[str, str]) -> OAuthTokens:
        if self._requester is None:
            raise MissingCredentialsError("token provider is not attached to a WiseClient")
        tokens = await self._requester(form)
        self.refresh_count += 1
        return tokens

    async def _renew(self) -> None:
        raise NotImplementedError


class UserTokens(_RefreshingProvider):
    """An OAuth user token pair (authorization_code / registration_code grants).

    Refreshed before ``expires_at`` (less ``skew``) and after a 401; ``on_token_refresh`` receives every
    new pair so the application can persist it: after a refresh the old access token no longer works.
    """

    def __init__(
        self,
        access_token: str,
        refresh_token: str,
        *,
        expires_at: float | None = None,
        on_token_refresh: TokenRefreshHook | None = None,
        clock: Clock = time.time,
        skew: float = DEFAULT_REFRESH_SKEW,
    ) -> None:
        super().__init__(clock=clock, skew=skew)
        self._tokens = OAuthTokens(
            access_token=access_token, refresh_token=refresh_token, expires_at=expires_at
        )
        self._on_refresh = on_token_refresh

    @classmethod
    def from_tokens(cls, tokens: OAuthTokens, **kwargs: Any) -> UserTokens:
        if tokens.refresh_token is None:
            raise ValueError("a user token pair needs a refresh_token")
        provider = cls(tokens.access_token, tokens.refresh_token, expires_at=tokens.expires_at, **kwargs)
        provider._tokens = tokens  # keep scope and refresh-token expiry for ``WiseClient.user_tokens``
        return provider

    def __repr__(self) -> str:
        expires = self._tokens.expires_at if self._tokens else None
        return f"UserTokens(access_token='***', refresh_token='***', expires_at={expires!r})"

    async def _renew(self) -> None:
        assert self._tokens is not None and self._tokens.refresh_token is not None
        new = await self._request(
            {"grant_type": "refresh_token", "refresh_token": self._tokens.refresh_token}
        )
        if new.refresh_token is None:  # keep the refresh token if Wise did not rotate it
            new = attrs.evolve(new, refresh_token=self._tokens.refresh_token)
        self._tokens = new
        if self._on_refresh is not None:
            result = self._on_refresh(new)
            if inspect.isawaitable(result):
                await result


class ClientCredentials(_RefreshingProvider):
    """An application token from the client_credentials grant; fetched again when it expires."""

    def __init__(self, *, clock: Clock = time.time, skew: float = DEFAULT_REFRESH_SKEW) -> None:
        super().__init__(clock=clock, skew=skew)

    def __repr__(self) -> str:
        return f"ClientCredentials(cached={self._tokens is not None})"

    async def _renew(self) -> None:
        self._tokens = await self._request({"grant_type": "client_credentials"})
