"""Transport-neutral request/response values and the error bodies Wise sends.

The fake is served both as an httpx transport and as an ASGI app; both adapt to these plain values,
so route handlers never see httpx or ASGI types.
"""

from __future__ import annotations

import copy
import http
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._api_version import QUARTER, path_quarter
from ._clock import format_iso

__all__ = [
    "FakeRequest",
    "FakeResponse",
    "RecordedRequest",
    "Rejection",
    "compile_path",
    "empty_response",
    "errors_response",
    "json_response",
    "oauth_error",
    "spring_error",
]


def compile_path(template: str) -> re.Pattern[str]:
    """Turn ``/v1/transfers/{transferId}`` into a regex with one named group per path parameter.

    A leading calendar version (``/2026Q4/...``) matches any quarter, as a client may pin another.
    """
    version = path_quarter(template)
    rest = template[len(version) + 1 :] if version else template
    parts = re.split(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", rest)
    regex = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
    )
    return re.compile(("/" + QUARTER.pattern if version else "") + regex)


@dataclass(frozen=True)
class FakeRequest:
    """One incoming request, already fully read (the fake never streams)."""

    method: str
    host: str
    path: str
    query: dict[str, list[str]]
    headers: httpx.Headers
    body: bytes
    query_string: str = ""

    @classmethod
    def build(
        cls, method: str, host: str, path: str, query: str, headers: httpx.Headers, body: bytes
    ) -> FakeRequest:
        return cls(
            method=method.upper(),
            host=host.lower(),
            path=path or "/",
            query=urllib.parse.parse_qs(query, keep_blank_values=True),
            headers=headers,
            body=body,
            query_string=query,
        )

    def param(self, name: str) -> str | None:
        """First value of a query parameter (Wise never repeats the ones the fake reads)."""
        values = self.query.get(name)
        return values[0] if values else None

    @property
    def content_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";")[0].strip().lower()

    def json(self) -> Any:
        """The JSON body; a 400 like Wise's on malformed input."""
        if not self.body:
            raise Rejection(errors_response(400, "NOT_VALID", "Request body is required."))
        try:
            return json.loads(self.body)
        except ValueError:
            raise Rejection(errors_response(400, "NOT_VALID", "Request body is not valid JSON.")) from None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise Rejection(errors_response(400, "NOT_VALID", "Request body must be a JSON object."))
        return data

    def form(self) -> dict[str, str]:
        """The urlencoded body; empty unless the request declared form content, as Spring does."""
        if self.content_type != "application/x-www-form-urlencoded":
            return {}
        pairs = urllib.parse.parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return dict(pairs)


@dataclass
class FakeResponse:
    """What a handler answers; the server layer adds trace and correlation headers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RecordedRequest:
    """One entry of ``FakeWise.requests``: what reached the fake and how it answered.

    ``status`` is None when an injected ``reset_before_commit`` dropped the connection; after a
    ``reset_after_commit`` it is the status the server produced but the client never received.
    """

    method: str
    host: str
    path: str
    query: str
    headers: httpx.Headers
    body: bytes
    at: float
    operation_id: str | None = None
    status: int | None = None
    fault: str | None = None
    response_headers: httpx.Headers = field(default_factory=httpx.Headers)

    def json(self) -> Any:
        return json.loads(self.body)


class Rejection(Exception):
    """Raised by handlers to answer with an error response from any depth."""

    def __init__(self, response: FakeResponse) -> None:
        super().__init__(response.status)
        self.response = response


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> FakeResponse:
    body = json.dumps(copy.deepcopy(payload), separators=(",", ":")).encode()
    return FakeResponse(status, body, {"content-type": "application/json", **(headers or {})})


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> FakeResponse:
    return FakeResponse(status, b"", dict(headers or {}))


def oauth_error(status: int, error: str, description: str, *, bearer: bool = False) -> FakeResponse:
    """``{error, error_description}``: the OAuth/Spring Security shape, used for token problems."""
    headers = {}
    if bearer:
        headers["www-authenticate"] = f'Bearer error="{error}", error_description="{description}"'
    return json_response(status, {"error": error, "error_description": description}, headers)


def errors_response(
    status: int, code: str, message: str, path: str | None = None, arguments: list[str] | None = None
) -> FakeResponse:
    """``{errors:[{code,message,path,arguments}]}``: Wise's validation and business-rule shape."""
    error: dict[str, Any] = {"code": code, "message": message, "arguments": list(arguments or [])}
    if path is not None:
        error["path"] = path
    return json_response(status, {"errors": [error]})


def spring_error(now: float, status: int, path: str, message: str = "") -> FakeResponse:
    """``{timestamp,status,error,message,path}``: what Wise's framework answers when no handler does."""
    payload = {
        "timestamp": format_iso(now, millis=True),
        "status": status,
        "error": http.HTTPStatus(status).phrase,
        "message": message,
        "path": path,
    }
    return json_response(status, payload)
