"""A Starlette-shaped request over a raw ASGI scope, for testing the webhook helpers without FastAPI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class StarletteLikeRequest:
    """The two members of ``starlette.requests.Request`` the webhook helpers use."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.headers = httpx.Headers(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        )
        self._receive = receive

    async def body(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            message = await self._receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)
