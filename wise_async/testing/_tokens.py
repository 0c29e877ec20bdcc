"""Access and refresh tokens with Wise's lifecycle: 12 h access tokens, rotation on refresh.

Refreshing invalidates both the old access token and the old refresh token, which is what makes a
client's refresh single-flight requirement observable in tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._clock import FakeClock, format_iso
from ._routing import Principal, TokenKind

__all__ = ["AccessToken", "CodeGrant", "RefreshToken", "TokenStore"]


@dataclass
class AccessToken:
    token: str
    kind: TokenKind
    user_id: int | None
    client_id: str | None
    expires_at: float | None  # None: personal tokens do not expire
    scope: str

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def principal(self) -> Principal:
        return Principal(self.kind, self.token, self.user_id, self.client_id)


@dataclass
class RefreshToken:
    token: str
    client_id: str | None
    user_id: int
    expires_at: float
    access_token: str
    scope: str


@dataclass(frozen=True)
class CodeGrant:
    """A single-use authorization or registration code waiting to be exchanged for user tokens."""

    code: str
    user_id: int
    client_id: str | None  # None: any registered client may exchange it
    redirect_uri: str | None = None


class TokenStore:
    """All live tokens; the fake's lock guards every call."""

    def __init__(self, clock: FakeClock, new_secret: Callable[[], str]) -> None:
        self._clock = clock
        self._new_secret = new_secret
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}

    def issue_client(self, client_id: str | None, ttl: int, scope: str) -> dict[str, Any]:
        """A client-credentials token: no refresh token, the client simply fetches a new one."""
        now = self._clock.now()
        token = AccessToken(self._new_secret(), "client", None, client_id, now + ttl, scope)
        self.access[token.token] = token
        return {
            "access_token": token.token,
            "token_type": "bearer",
            "expires_in": ttl,
            "expires_at": format_iso(now + ttl, millis=True),
            "scope": scope,
        }

    def issue_user(
        self, user_id: int, client_id: str | None, ttl: int, refresh_ttl: int, scope: str
    ) -> dict[str, Any]:
        now = self._clock.now()
        access = AccessToken(self._new_secret(), "user", user_id, client_id, now + ttl, scope)
        refresh = RefreshToken(self._new_secret(), client_id, user_id, now + refresh_ttl, access.token, scope)
        self.access[access.token] = access
        self.refresh[refresh.token] = refresh
        return {
            "access_token": access.token,
            "token_type": "bearer",
            "expires_in": ttl,
            "expires_at": format_iso(now + ttl, millis=True),
            "scope": scope,
            "refresh_token": refresh.token,
            "refresh_token_expires_in": refresh_ttl,
            "refresh_token_expires_at": format_iso(now + refresh_ttl, millis=True),
        }

    def add_personal(self, token: str, user_id: int) -> None:
        self.access[token] = AccessToken(token, "personal", user_id, None, None, "transfers")

    def usable_refresh(self, token: str, client_id: str | None) -> RefreshToken | None:
        found = self.refresh.get(token)
        if found is None or found.client_id not in (None, client_id) or self._clock.now() >= found.expires_at:
            return None
        return found

    def rotate(self, old: RefreshToken, client_id: str | None, ttl: int, refresh_ttl: int) -> dict[str, Any]:
        """Issue a new pair and kill the old one: a racing second refresh gets ``invalid_grant``."""
        self.refresh.pop(old.token, None)
        self.access.pop(old.access_token, None)
        return self.issue_user(old.user_id, client_id, ttl, refresh_ttl, old.scope)

    def revoke(self, token: str) -> None:
        self.access.pop(token, None)
        refresh = self.refresh.pop(token, None)
        if refresh is not None:
            self.access.pop(refresh.access_token, None)
