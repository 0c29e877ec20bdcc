"""Injected failures: rate limits, 5xx, and dropped connections before or after the server commits.

The before/after distinction is the point: a retry after ``reset_before_commit`` is always safe, while
after ``reset_after_commit`` the server already acted (e.g. created the transfer) and only an
idempotency key keeps a retry from doing it twice.
"""

from __future__ import annotations

import http
import json
import re
from dataclasses import dataclass, field
from typing import Literal, get_args

import httpx

from ._http import FakeResponse, compile_path

__all__ = ["Fault", "FaultKind", "Faults"]

FaultKind = Literal["status", "rate_limit", "server_error", "reset_before_commit", "reset_after_commit"]
_KINDS: tuple[str, ...] = get_args(FaultKind)

_DEFAULT_EXCEPTION: dict[str, type[httpx.TransportError]] = {
    # The request was sent and the server dropped it unprocessed; the client cannot tell that apart
    # from a drop after processing, which is the point of these faults.
    "reset_before_commit": httpx.RemoteProtocolError,
    "reset_after_commit": httpx.ReadError,
}


@dataclass
class Fault:
    """One queued failure and the requests it applies to (None matches anything).

    ``path`` is an exact path, a template like ``/v1/transfers/{id}``, or a compiled regex
    (full match). ``times=None`` keeps firing until removed; ``skip`` lets that many matching
    requests through first.
    """

    kind: FaultKind
    method: str | None = None
    path: str | re.Pattern[str] | None = None
    operation: str | None = None
    host: str | None = None
    status: int | None = None
    retry_after: int | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    exception: type[httpx.TransportError] | None = None
    times: int | None = 1
    skip: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {_KINDS}")
        if self.kind == "status" and self.status is None:
            raise ValueError("a 'status' fault needs status=")
        if self.method is not None:
            self.method = self.method.upper()
        if self.host is not None:
            self.host = self.host.lower()
        if isinstance(self.path, str) and "{" in self.path:
            self.path = compile_path(self.path)

    @property
    def drops_connection(self) -> bool:
        return self.kind in ("reset_before_commit", "reset_after_commit")

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, method: str, path: str, operation: str | None, host: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.host is not None and self.host != host:
            return False
        if self.operation is not None and self.operation != operation:
            return False
        if isinstance(self.path, re.Pattern):
            return self.path.fullmatch(path) is not None
        return self.path is None or self.path == path

    def exception_type(self) -> type[httpx.TransportError]:
        return self.exception or _DEFAULT_EXCEPTION[self.kind]

    def response(self) -> FakeResponse:
        """The HTTP answer for status-type faults, shaped like what Wise's edge really sends."""
        if self.kind == "rate_limit":
            status = self.status or 429
            headers = {"x-rate-limited-by": "client-id"}
            if self.retry_after is not None:
                headers["retry-after"] = str(self.retry_after)
            body = b"" if self.body is None else self.body
        else:
            status = self.status or 500
            headers = {}
            body = self.body if self.body is not None else _default_body(status)
            if self.retry_after is not None:
                headers["retry-after"] = str(self.retry_after)
        if body and "content-type" not in {name.lower() for name in self.headers}:
            headers["content-type"] = "text/html" if body.startswith(b"<") else "application/json"
        headers.update({name.lower(): value for name, value in self.headers.items()})
        return FakeResponse(status, body, headers)


def _default_body(status: int) -> bytes:
    # Gateways answer 502-504 with HTML, the application answers with JSON: clients must cope with both.
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    if status in (502, 503, 504):
        return f"<html><body><h1>{status} {phrase}</h1></body></html>".encode()
    return json.dumps({"status": status, "error": phrase, "message": "Injected by FakeWise"}).encode()


class Faults:
    """Queue of injected faults, consulted in insertion order for every request."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []
        self.fired: list[Fault] = []
        """Every fault occurrence, in order (the same Fault appears once per firing)."""

    def add(
        self,
        kind: FaultKind = "status",
        *,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        operation: str | None = None,
        host: str | None = None,
        status: int | None = None,
        retry_after: int | str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        exception: type[httpx.TransportError] | None = None,
        times: int | None = 1,
        skip: int = 0,
    ) -> Fault:
        """Queue a fault; see :class:`Fault` for matching. Returns it so a test can inspect ``fired``."""
        fault = Fault(
            kind=kind,
            method=method,
            path=path,
            operation=operation,
            host=host,
            status=status,
            retry_after=retry_after,
            headers=dict(headers or {}),
            body=body,
            exception=exception,
            times=times,
            skip=skip,
        )
        self._queue.append(fault)
        return fault

    def rate_limit(
        self,
        *,
        retry_after: int | str | None = None,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        operation: str | None = None,
        times: int | None = 1,
    ) -> Fault:
        """429 with ``X-Rate-Limited-By`` and, if given, ``Retry-After``; empty body like Wise's edge."""
        return self.add(
            "rate_limit", retry_after=retry_after, method=method, path=path, operation=operation, times=times
        )

    def server_error(
        self,
        status: int = 500,
        *,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        operation: str | None = None,
        times: int | None = 1,
    ) -> Fault:
        """A 5xx (JSON for 500, gateway HTML for 502-504) without touching state."""
        return self.add(
            "server_error", status=status, method=method, path=path, operation=operation, times=times
        )

    def reset_before_commit(
        self,
        *,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        operation: str | None = None,
        times: int | None = 1,
    ) -> Fault:
        """Drop the connection without applying the request (``httpx.RemoteProtocolError``)."""
        return self.add("reset_before_commit", method=method, path=path, operation=operation, times=times)

    def reset_after_commit(
        self,
        *,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        operation: str | None = None,
        times: int | None = 1,
    ) -> Fault:
        """Apply the request, then drop the connection (``httpx.ReadError``): the client sees no answer."""
        return self.add("reset_after_commit", method=method, path=path, operation=operation, times=times)

    def clear(self) -> None:
        self._queue.clear()

    @property
    def pending(self) -> list[Fault]:
        return list(self._queue)

    def __len__(self) -> int:
        return len(self._queue)

    def take(self, method: str, path: str, operation: str | None, host: str) -> Fault | None:
        """Consume one firing of the first matching fault (caller holds the fake's lock)."""
        for fault in self._queue:
            if not fault.matches(method, path, operation, host):
                continue
            if fault.skip > 0:
                fault.skip -= 1
                continue
            fault.fired += 1
            self.fired.append(fault)
            if fault.exhausted:
                self._queue.remove(fault)
            return fault
        return None
