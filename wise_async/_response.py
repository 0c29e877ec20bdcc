"""What ``with_raw_response`` calls return: the parsed result with the response it came from."""

from __future__ import annotations

from dataclasses import field
from typing import Generic, TypeVar

import httpx

from ._record import Record, record, set_field

T = TypeVar("T")


@record
class WiseResponse(Record, Generic[T]):
    """A successful call with everything an app may want to store or log."""

    parsed: T
    status_code: int
    headers: httpx.Headers = field(repr=False)
    content: bytes = field(repr=False)
    idempotency_key: str | None
    correlation_id: str | None
    trace_id: str | None
    http_response: httpx.Response = field(repr=False)

    def __init__(
        self,
        parsed: T,
        status_code: int,
        headers: httpx.Headers,
        content: bytes,
        idempotency_key: str | None,
        correlation_id: str | None,
        trace_id: str | None,
        http_response: httpx.Response,
    ) -> None:
        set_field(self, "parsed", parsed)
        set_field(self, "status_code", status_code)
        set_field(self, "headers", headers)
        set_field(self, "content", content)
        set_field(self, "idempotency_key", idempotency_key)
        set_field(self, "correlation_id", correlation_id)
        set_field(self, "trace_id", trace_id)
        set_field(self, "http_response", http_response)
