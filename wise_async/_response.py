"""What ``with_raw_response`` calls return: the parsed result with the response it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

import httpx

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WiseResponse(Generic[T]):
    """A successful call with everything an app may want to store or log."""

    parsed: T
    status_code: int
    headers: httpx.Headers = field(repr=False)
    content: bytes = field(repr=False)
    idempotency_key: str | None
    correlation_id: str | None
    trace_id: str | None
    http_response: httpx.Response = field(repr=False)
