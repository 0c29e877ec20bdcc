"""Where OAuth tokens live between requests, and who may refresh them: the token store interface.

A store keeps one token pair per :class:`TokenKey` (client id + the application's user key) and hands
out *refresh leases*: whoever holds the lease for a key is the only one refreshing that key. The
default :class:`MemoryTokenStore` does this for one process; ``wise_async.redis.RedisTokenStore`` does
it for a fleet of processes, so that Wise's rule "using a refresh token invalidates the previous access
token" never makes two workers invalidate each other's tokens.

The refresh protocol itself (re-read, lease, refresh only if the pair used is still current) lives in
``_tokens``; a store only has to make ``add``/``try_lease`` atomic.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import quote

from ._exceptions import CoordinationError
from ._record import Record, record, set_field

if TYPE_CHECKING:  # ``_tokens`` imports this module; the class is only needed when decoding
    from ._tokens import OAuthTokens

__all__ = [
    "MemoryTokenStore",
    "TokenCipher",
    "TokenKey",
    "TokenStore",
    "TokenStoreError",
    "decode_tokens",
    "encode_tokens",
]


@record
class TokenKey(Record):
    """Whose tokens: an OAuth client's own (``user=None``: client credentials) or one of its users'.

    ``user`` is the application's own key for the Wise user (its user id, a profile id...), any string.
    """

    client_id: str
    user: str | None = None

    def __init__(self, client_id: str, user: str | None = None) -> None:
        set_field(self, "client_id", client_id)
        set_field(self, "user", user)

    def __str__(self) -> str:
        """Unambiguous, so stores can use it as their key: ``user:<client id>:<user>`` (percent-encoded)."""
        client = quote(self.client_id, safe="-_.@")
        return f"client:{client}" if self.user is None else f"user:{client}:{quote(self.user, safe='-_.@')}"


class TokenStoreError(CoordinationError):
    """The token store failed: unreachable or too slow (e.g. Redis down or frozen), or it holds data this
    process cannot decrypt or read (another cipher key, a foreign value). The message names the key,
    never a token."""


@runtime_checkable
class TokenStore(Protocol):
    """Shared storage for token pairs plus a per-key refresh lease. Implementations must be safe to use
    from many tasks at once; ``add`` and ``try_lease`` must be atomic across every user of the store."""

    async def load(self, key: TokenKey) -> OAuthTokens | None:
        """The stored pair, or None if there is none (or it has expired)."""
        ...

    async def save(self, key: TokenKey, tokens: OAuthTokens) -> None:
        """Store ``tokens`` for ``key``, replacing what was there."""
        ...

    async def add(self, key: TokenKey, tokens: OAuthTokens) -> bool:
        """Store ``tokens`` only if ``key`` has nothing yet; True if they were stored."""
        ...

    async def try_lease(self, key: TokenKey) -> AbstractAsyncContextManager[None] | None:
        """Take the refresh lease for ``key`` without waiting; None if someone else holds it.

        The lease is held from this call until the returned context manager exits (enter it at once).
        A holder that dies must not block the others for longer than the store's lease time.
        """
        ...


class TokenCipher(Protocol):
    """Encryption of stored token pairs at rest; ``cryptography.fernet.Fernet`` (or ``MultiFernet``,
    for key rotation) fits as is. ``decrypt`` must raise on tampered or foreign data."""

    def encrypt(self, data: bytes) -> bytes: ...

    def decrypt(self, token: bytes) -> bytes: ...


_FIELDS = ("access_token", "expires_at", "refresh_token", "refresh_token_expires_at", "token_type", "scope")


def encode_tokens(tokens: OAuthTokens) -> bytes:
    """JSON bytes of a token pair (what a store encrypts and keeps)."""
    return json.dumps({name: getattr(tokens, name) for name in _FIELDS}, separators=(",", ":")).encode()


def decode_tokens(data: bytes) -> OAuthTokens:
    from ._tokens import OAuthTokens

    values: dict[str, Any] = json.loads(data)
    return OAuthTokens(**{name: values[name] for name in _FIELDS if name in values})


def retention_deadline(key: TokenKey, tokens: OAuthTokens) -> float | None:
    """When a stored pair is useless: its refresh token's expiry (user tokens), or the access token's
    expiry (client credentials, which are simply fetched again). None: keep it."""
    if key.user is None or tokens.refresh_token is None:
        return tokens.expires_at
    return tokens.refresh_token_expires_at


class _MemoryLease:
    def __init__(self, store: MemoryTokenStore, key: TokenKey) -> None:
        self._store = store
        self._key = key

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> None:
        self._store._release(self._key)


class MemoryTokenStore:
    """The default store: a dict in this process. Share one instance between several ``WiseClient``
    objects of one process to give them one token pair and one refresh at a time."""

    def __init__(self, *, clock: Any = time.time) -> None:
        self._clock = clock
        self._pairs: dict[TokenKey, OAuthTokens] = {}
        self._leased: set[TokenKey] = set()
        # Critical sections never await: a thread lock serves asyncio, trio and threads alike.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryTokenStore(keys={len(self._pairs)})"

    def _live(self, key: TokenKey) -> OAuthTokens | None:
        tokens = self._pairs.get(key)
        if tokens is not None:
            deadline = retention_deadline(key, tokens)
            if deadline is not None and deadline <= self._clock():
                del self._pairs[key]
                return None
        return tokens

    async def load(self, key: TokenKey) -> OAuthTokens | None:
        with self._lock:
            return self._live(key)

    async def save(self, key: TokenKey, tokens: OAuthTokens) -> None:
        with self._lock:
            self._pairs[key] = tokens

    async def add(self, key: TokenKey, tokens: OAuthTokens) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._pairs[key] = tokens
            return True

    async def try_lease(self, key: TokenKey) -> AbstractAsyncContextManager[None] | None:
        with self._lock:
            if key in self._leased:
                return None
            self._leased.add(key)
        return _MemoryLease(self, key)

    def _release(self, key: TokenKey) -> None:
        with self._lock:
            self._leased.discard(key)
