"""The one exception hierarchy of wise-async.

Catch :class:`WiseError` for "anything from this SDK", :class:`APIStatusError` for "Wise answered
with an error", or a status-specific subclass::

    WiseError
     ├── APIError                        .message, .request
     │    ├── APIResponseValidationError 2xx whose body does not match the spec
     │    ├── ResponseTooLargeError      the body exceeded ``max_response_bytes`` (after decompression)
     │    ├── APIConnectionError         no complete response: refused, DNS, TLS, reset, body cut short
     │    │    └── APITimeoutError
     │    └── APIStatusError             .response, .status_code, .headers, .body, .errors,
     │         │                         .trace_id, .correlation_id, .method, .url
     │         ├── BadRequestError               400
     │         ├── AuthenticationError           401
     │         ├── PermissionDeniedError         403
     │         │    └── ScaRequiredError         403 + x-2fa-approval   .one_time_token, .challenges
     │         │         └── ScaRejectedError    SCA attempted, refused again   .reason
     │         ├── NotFoundError                 404
     │         ├── ConflictError                 409
     │         ├── UnprocessableEntityError      422
     │         ├── RateLimitError                429   .retry_after, .rate_limited_by
     │         ├── InternalServerError           >= 500
     │         └── RedirectError                 3xx: never followed   .location
     ├── InvalidRequestError (also ValueError)   bad arguments; nothing was sent
     ├── ConfigurationError (also ValueError)    the client cannot be built as asked (environment,
     │                                           base URL, a credential that cannot be sent)
     ├── AuthorizationError              the OAuth redirect has the wrong ``state`` or an ``error``
     ├── MissingCredentialsError         the operation needs a credential the client was not given
     ├── ClientClosedError (also RuntimeError)   the client was used after ``aclose()``
     ├── PaginationError
     ├── JoseError
     ├── WebhookVerificationError
     └── CoordinationError               a backend shared by a fleet (e.g. Redis) failed or timed out
          └── TokenStoreError            ... or holds tokens this process cannot read

``str(error)`` leads with Wise's ``x-trace-id`` (what Wise support asks for) and never contains a
credential: URLs are redacted, messages pass through :func:`~wise_async._redaction.redact_text`, and
values of credential headers sent or received are scrubbed out. What came from the network is shown
on one line: CR, LF and other control characters arrive escaped (``\\r\\n``), so no error can forge a
log line.

Status errors are built by one factory, :func:`make_status_error`; error bodies in every shape Wise
uses are normalised to :class:`ErrorDetail` by :func:`parse_error_details`, which never raises.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import field, replace
from typing import Any

import httpx

from ._idempotency import idempotency_key_of
from ._record import Record, record, set_field
from ._redaction import redact_raw_headers, redact_text, redact_url, single_line
from ._retry import parse_retry_after

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "AuthorizationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "CoordinationError",
    "ErrorDetail",
    "InternalServerError",
    "InvalidRequestError",
    "JoseError",
    "MissingCredentialsError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RedirectError",
    "ResponseTooLargeError",
    "ScaChallenge",
    "ScaRejectedError",
    "ScaRequiredError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
    "WiseError",
    "make_status_error",
    "parse_error_details",
]

_TRACE_ID_HEADER = "x-trace-id"
_CORRELATION_ID_HEADER = "x-external-correlation-id"
_RATE_LIMITED_BY_HEADER = "x-rate-limited-by"
_SCA_TOKEN_HEADER = "x-2fa-approval"
_SCA_RESULT_HEADER = "x-2fa-approval-result"

# Headers whose values are credentials; scrubbed from any text that might echo them.
_CREDENTIAL_HEADERS = (
    "authorization",
    "x-signature",
    "x-2fa-approval",
    "one-time-token",
    "x-tw-twcard-card-token",
)
_MAX_MESSAGE_CHARS = 500
_MAX_DETAIL_CHARS = 4096  # an error detail's message is kept up to this length
_CUT_MARGIN_CHARS = 128


# --------------------------------------------------------------------------------------------------
# Error bodies


@record
class ErrorDetail(Record):
    """One error reported by Wise, whatever shape the body had.

    Codes are not unique across Wise APIs: match on ``code`` together with the operation. ``path`` is
    the offending field (or request path for Spring bodies) when Wise says.
    """

    code: str | None = None
    message: str | None = None
    path: str | None = None
    arguments: list[str] | dict[str, Any] | None = None

    def __init__(
        self,
        code: str | None = None,
        message: str | None = None,
        path: str | None = None,
        arguments: list[str] | dict[str, Any] | None = None,
    ) -> None:
        set_field(self, "code", code)
        set_field(self, "message", message)
        set_field(self, "path", path)
        set_field(self, "arguments", arguments)


def _text(value: object) -> str | None:
    """A usable string from a JSON scalar; empty strings and containers carry no message."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _first_text(item: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        text = _text(item.get(key))
        if text is not None:
            return text
    return None


def _arguments(value: object) -> list[str] | dict[str, Any] | None:
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):
        return [v if isinstance(v, str) else json.dumps(v) for v in value]
    return None


def _detail_from_mapping(item: Mapping[str, Any]) -> ErrorDetail | None:
    """Normalise one error object; ``None`` when it names neither a code nor a message."""
    code = _first_text(item, "code", "error")
    message = _first_text(item, "error_description", "message", "detail", "title")
    if code is None and message is None:
        return None
    return ErrorDetail(
        code=code,
        message=message,
        path=_first_text(item, "path", "ref", "field"),
        arguments=_arguments(item.get("arguments")),
    )


def _details_from_items(items: Sequence[Any]) -> list[ErrorDetail]:
    details: list[ErrorDetail] = []
    for item in items:
        if isinstance(item, dict):
            detail = _detail_from_mapping(item)
            if detail is not None:
                details.append(detail)
        else:
            text = _text(item)
            if text is not None:
                details.append(ErrorDetail(message=text))
    return details


def _details_from_json(data: Any) -> list[ErrorDetail]:
    if isinstance(data, list):
        return _details_from_items(data)
    if not isinstance(data, dict):
        text = _text(data)
        return [ErrorDetail(message=text)] if text is not None else []

    details: list[ErrorDetail] = []
    # The top level is itself an error in most shapes: OAuth {error, error_description}, Spring
    # {status, error, message, path}, problem-details {title, detail}, {code, message}, {message}.
    nested = data.get("error")
    top = _detail_from_mapping(
        {k: v for k, v in data.items() if k != "error"} if isinstance(nested, dict) else data
    )
    if top is not None:
        details.append(top)
    if isinstance(nested, dict):
        details.extend(_details_from_json(nested))
    errors = data.get("errors")
    if isinstance(errors, list):
        details.extend(_details_from_items(errors))
    return details


_HTML_TITLE_OPEN_RE = re.compile(r"<(title|h1)(?:\s[^<>]{0,200})?>", re.IGNORECASE)
_TITLE_CLOSE_RE = re.compile(r"</title\s*>", re.IGNORECASE)
_H1_CLOSE_RE = re.compile(r"</h1\s*>", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^<>]{0,200}>")
_WHITESPACE_RE = re.compile(r"\s+")
# An HTML title is near the top of a gateway's page; longer than this, only the start is looked at.
_MAX_TITLE_CHARS = 2000


def _squash(text: str) -> str:
    # A message is shown from the first characters of a body only: the rest is never scanned.
    return _WHITESPACE_RE.sub(" ", text[: _MAX_MESSAGE_CHARS * 4]).strip()[:_MAX_MESSAGE_CHARS]


def _html_title(page: str) -> str | None:
    """The text of the first ``<title>`` (else ``<h1>``) of a page; one scan for each tag."""
    for tag, closing in (("title", _TITLE_CLOSE_RE), ("h1", _H1_CLOSE_RE)):
        opening: re.Match[str] | None = _HTML_TITLE_OPEN_RE.search(page)
        while opening is not None and opening.group(1).lower() != tag:
            opening = _HTML_TITLE_OPEN_RE.search(page, opening.end())
        if opening is None:
            continue
        end = closing.search(page, opening.end(), opening.end() + _MAX_TITLE_CHARS)
        if end is not None:
            return page[opening.end() : end.start()]
    return None


def _details_from_text(text: str, content_type: str) -> list[ErrorDetail]:
    stripped = text.strip()
    if not stripped:
        return []
    if "html" in content_type or stripped.startswith("<"):
        # Gateways answer with HTML pages; their title ("502 Bad Gateway") is the only useful part.
        title_markup = _html_title(stripped)
        if title_markup is None:
            return []
        import html

        title = _squash(html.unescape(_TAG_RE.sub("", title_markup)))
        return [ErrorDetail(message=title)] if title else []
    return [ErrorDetail(message=_squash(stripped))]


def parse_error_details(body: bytes, content_type: str | None) -> list[ErrorDetail]:
    """Normalise an error body of any shape Wise uses into a list of :class:`ErrorDetail`.

    Handles OAuth, ``{errors: [...]}``, problem-details, Spring, one-off JSON objects, JSON lists, HTML
    and plain text. Never raises: an error while *describing* an error must not hide the original one.
    """
    try:
        if not body or not body.strip():
            return []
        ctype = (content_type or "").lower()
        first = body.lstrip()[:1]
        if "json" in ctype or first in (b"{", b"["):
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):
                pass  # mislabelled or truncated: describe it as text
            else:
                return _details_from_json(data)
        return _details_from_text(body.decode("utf-8", errors="replace"), ctype)
    except Exception:
        return []


# --------------------------------------------------------------------------------------------------
# SCA challenges


@record
class ScaChallenge(Record):
    """One SCA challenge from the one-time-token status, so callers can pick how to clear it.

    ``type`` is PIN, FACE_MAP, SMS, WHATSAPP, VOICE or PARTNER_DEVICE_FINGERPRINT (others may appear);
    ``alternatives`` lists challenge types accepted instead of it.
    """

    type: str
    required: bool = False
    passed: bool = False
    view_data: dict[str, Any] | None = None
    alternatives: list[str] = field(default_factory=list)

    def __init__(
        self,
        type: str,
        required: bool = False,
        passed: bool = False,
        view_data: dict[str, Any] | None = None,
        alternatives: list[str] | None = None,
    ) -> None:
        set_field(self, "type", type)
        set_field(self, "required", required)
        set_field(self, "passed", passed)
        set_field(self, "view_data", view_data)
        set_field(self, "alternatives", [] if alternatives is None else alternatives)

    @classmethod
    def from_wise(cls, data: Mapping[str, Any]) -> ScaChallenge:
        """Parse ``{primaryChallenge: {type, viewData}, alternatives: [{type}], required, passed}``."""
        primary = data.get("primaryChallenge")
        if not isinstance(primary, Mapping):
            primary = {}
        view_data = primary.get("viewData")
        alternatives: list[str] = []
        raw_alternatives = data.get("alternatives")
        if isinstance(raw_alternatives, list):
            for alternative in raw_alternatives:
                if isinstance(alternative, Mapping):
                    alt_type = _text(alternative.get("type"))
                    if alt_type is None and isinstance(alternative.get("primaryChallenge"), Mapping):
                        alt_type = _text(alternative["primaryChallenge"].get("type"))
                else:
                    alt_type = _text(alternative)
                if alt_type is not None:
                    alternatives.append(alt_type)
        return cls(
            type=_text(primary.get("type")) or "UNKNOWN",
            required=data.get("required") is True,
            passed=data.get("passed") is True,
            view_data=dict(view_data) if isinstance(view_data, Mapping) else None,
            alternatives=alternatives,
        )


# --------------------------------------------------------------------------------------------------
# Exceptions


def _rebuild(cls: type[BaseException], args: tuple[Any, ...]) -> BaseException:
    """Unpickling hook: recreate without calling ``__init__`` (keyword-only), then restore state."""
    exc = cls.__new__(cls, *args)
    exc.args = args
    return exc


class WiseError(Exception):
    """Base of every error raised by wise-async, so one ``except`` catches them all."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's default pickling replays ``cls(*args)``, which our keyword-only inits reject.
        return (_rebuild, (type(self), self.args), self.__dict__)


class APIError(WiseError):
    """A call to Wise failed; ``request`` is a redacted copy of what was sent, when known."""

    message: str
    request: httpx.Request | None
    _sent: _SentRequest | None = None

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        if request is not None:
            self._sent = _SentRequest(request)
            request = _redacted_request(request)
        self.request = request

    @property
    def sent_request(self) -> httpx.Request | None:
        """The request exactly as sent, credentials included (``request`` is its redacted copy)."""
        return self._sent.request if self._sent is not None else None

    def __str__(self) -> str:
        if self.request is None:
            return self.message
        return f"{self.message} ({self.request.method} {redact_url(str(self.request.url))})"


class APIConnectionError(APIError):
    """No response arrived (DNS, TLS, connection reset); the request may or may not have been processed."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The request timed out; like any connection error its outcome at Wise is unknown."""

    def __init__(self, message: str = "Request timed out.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


def _request_of(response: httpx.Response) -> httpx.Request | None:
    try:
        return response.request
    except RuntimeError:  # a hand-built Response with no request attached
        return None


def _body_of(response: httpx.Response) -> bytes:
    try:
        return response.content
    except httpx.ResponseNotRead:  # the caller forgot ``await response.aread()``: describe what we can
        return b""


_SECRET_FORM_FIELDS = frozenset(
    {"refresh_token", "code", "registration_code", "client_secret", "password", "access_token"}
)


def _credential_values(*headers: httpx.Headers | None, request: httpx.Request | None = None) -> list[str]:
    """Every credential sent or received in this exchange: header values and secret form fields
    (``/oauth/token`` bodies carry refresh tokens and codes that Wise may echo in an error)."""
    values: list[str] = []
    for header_set in headers:
        if header_set is None:
            continue
        for name in _CREDENTIAL_HEADERS:
            for value in header_set.get_list(name):
                # "Bearer abc" → scrub "abc" as well as the whole value.
                credential = value.split(" ", 1)[-1].strip()
                values.extend(v for v in (value.strip(), credential) if len(v) >= 4)
    if request is not None and "form-urlencoded" in request.headers.get("content-type", ""):
        try:
            pairs = urllib.parse.parse_qsl(request.content.decode("utf-8", "replace"))
        except httpx.RequestNotRead:
            pairs = []
        values.extend(v for k, v in pairs if k in _SECRET_FORM_FIELDS and len(v) >= 4)
    return sorted(set(values), key=len, reverse=True)


class _SentRequest:
    """The request exactly as sent (credentials included), kept only to replay it; shows nothing."""

    __slots__ = ("request",)

    def __init__(self, request: httpx.Request) -> None:
        self.request = request

    def __repr__(self) -> str:
        return "<sent request>"


def _redacted_request(request: httpx.Request) -> httpx.Request:
    """A copy safe to show: credential headers, URL userinfo/secret query values and body secrets masked,
    and the request's own credentials wherever else they appear (a token passed as a path argument)."""
    secrets = _credential_values(request.headers, request=request)
    try:
        body = request.content
    except httpx.RequestNotRead:
        body = b""
    if body:
        try:
            body = _replaced(redact_text(body.decode("utf-8")), secrets).encode("utf-8")
        except UnicodeDecodeError:
            body = b""  # binary (multipart files, JWE): not shown
    headers = [
        (name, value)
        for name, value in redact_raw_headers(request.headers.raw)
        if name.lower() != b"content-length"
    ]
    url = _replaced(redact_url(str(request.url)), secrets)
    return httpx.Request(request.method, url, headers=headers, content=body)


def _replaced(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _redacted_response(
    response: httpx.Response, body: bytes, request: httpx.Request | None
) -> httpx.Response:
    """A copy of an already-read response with credential headers masked and the decoded body."""
    headers = [
        (name, value)
        for name, value in redact_raw_headers(response.headers.raw)
        if name.lower() not in (b"content-encoding", b"content-length")  # the body below is decoded
    ]
    extensions = {k: v for k, v in response.extensions.items() if k in ("http_version", "reason_phrase")}
    copy = httpx.Response(response.status_code, headers=headers, content=body, extensions=extensions)
    if request is not None:
        copy.request = request
    return copy


def _scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` fit to show: credentials of the exchange and anything that looks like one masked, on one
    line, at most :data:`_MAX_DETAIL_CHARS` long (a 1 MiB message costs no more than its start)."""
    text = _replaced(text, secrets)
    if len(text) <= _MAX_DETAIL_CHARS:
        return single_line(redact_text(text))
    # The cut may halve a card number or key=value pair so that no mask knows it: that tail is dropped.
    shown = single_line(redact_text(text[:_MAX_DETAIL_CHARS]))
    return shown[: len(shown) - _CUT_MARGIN_CHARS] + "…"


def _scrub_bytes(body: bytes, secrets: Sequence[str]) -> bytes:
    for secret in secrets:
        body = body.replace(secret.encode("utf-8", "replace"), b"***")
    return body


def _scrubbed_detail(detail: ErrorDetail, secrets: Sequence[str]) -> ErrorDetail:
    if detail.message is None:
        return detail
    return replace(detail, message=_scrub(detail.message, secrets))


def _header_text(headers: httpx.Headers, name: str) -> str | None:
    """A header's value to show: on one line, and no longer than a message."""
    value = headers.get(name)
    return None if value is None else _truncate(single_line(value))


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE_CHARS else text[: _MAX_MESSAGE_CHARS - 1] + "…"


class APIStatusError(APIError):
    """Wise answered with a non-success status; everything needed to debug or report it is attached.

    ``body`` is the raw response bytes and ``errors`` its normalised details. ``trace_id`` is Wise's
    ``x-trace-id`` (quote it to Wise support); ``correlation_id`` is the ``X-External-Correlation-Id``
    echoed back (or sent). ``url`` has secret query values masked.
    """

    response: httpx.Response
    status_code: int
    headers: httpx.Headers
    body: bytes
    errors: list[ErrorDetail]
    trace_id: str | None
    correlation_id: str | None
    method: str | None
    url: str | None

    def __init__(
        self,
        message: str | None = None,
        *,
        response: httpx.Response,
        errors: list[ErrorDetail] | None = None,
    ) -> None:
        sent = _request_of(response)
        body = _body_of(response)
        if errors is None:
            errors = parse_error_details(body, response.headers.get("content-type"))
        secrets = _credential_values(
            response.headers, sent.headers if sent is not None else None, request=sent
        )
        self._secrets = secrets
        self.errors = [_scrubbed_detail(d, secrets) for d in errors]
        super().__init__(_truncate(_scrub(message or self._default_message(response), secrets)), request=sent)
        request = self.request
        self.response = _redacted_response(response, body, request)
        self.status_code = response.status_code
        self.headers = self.response.headers
        self.body = _scrub_bytes(body, secrets)
        self.trace_id = _header_text(response.headers, _TRACE_ID_HEADER)
        self.correlation_id = _header_text(response.headers, _CORRELATION_ID_HEADER) or (
            _header_text(request.headers, _CORRELATION_ID_HEADER) if request is not None else None
        )
        self.method = request.method if request is not None else None
        self.url = redact_url(str(request.url)) if request is not None else None

    def _default_message(self, response: httpx.Response) -> str:
        for detail in self.errors:
            if detail.message:
                return detail.message
        for detail in self.errors:
            if detail.code:
                return detail.code
        return response.reason_phrase or f"HTTP {response.status_code}"

    def __str__(self) -> str:
        parts: list[str] = []
        if self.trace_id:
            parts.append(f"[trace_id={self.trace_id}]")
        status = str(self.status_code)
        if self.response.reason_phrase:
            status += f" {self.response.reason_phrase}"
        parts.append(status)
        if self.method and self.url:
            parts.append(f"({self.method} {self.url})")
        text = " ".join(parts)
        if self.message != self.response.reason_phrase:  # don't say "404 Not Found: Not Found"
            text += f": {self.message}"
        first = next((d.message for d in self.errors if d.message), None)
        if first is not None:
            first = _truncate(_scrub(first, self._secret_values()))
            if first not in self.message:
                text += f" — {first}"
        if len(self.errors) > 1:
            text += f" (+{len(self.errors) - 1} more)"
        return text

    def _secret_values(self) -> list[str]:
        """Credentials sent or received with this exchange, to scrub from any text we show."""
        return self._secrets

    def _repr_fields(self) -> dict[str, object]:
        return {
            "status_code": self.status_code,
            "trace_id": self.trace_id,
            "message": self.message,
        }

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self._repr_fields().items())
        return f"{type(self).__name__}({fields})"


class BadRequestError(APIStatusError):
    """400: the request is malformed; retrying it unchanged will fail the same way."""


class AuthenticationError(APIStatusError):
    """401: token missing, expired or invalid (after the SDK's one refresh-and-replay)."""


class PermissionDeniedError(APIStatusError):
    """403: the token may not do this (scope, profile, card state), and it is not an SCA challenge."""


class NotFoundError(APIStatusError):
    """404: the resource does not exist or is not visible to this token."""


class ConflictError(APIStatusError):
    """409: conflicts with current state, e.g. a duplicate create without an idempotency key."""


class UnprocessableEntityError(APIStatusError):
    """422: well-formed but rejected by validation; see ``errors`` for the fields."""


class RateLimitError(APIStatusError):
    """429: Wise did not process the request; retry after ``retry_after`` seconds if given.

    Raised once retries are exhausted or ``Retry-After`` exceeds the policy's cap.
    ``rate_limited_by`` is Wise's ``X-Rate-Limited-By`` (which limit tripped).
    """

    retry_after: float | None
    rate_limited_by: str | None

    def __init__(
        self,
        message: str | None = None,
        *,
        response: httpx.Response,
        errors: list[ErrorDetail] | None = None,
    ) -> None:
        super().__init__(message, response=response, errors=errors)
        self.retry_after = parse_retry_after(response.headers)
        self.rate_limited_by = _header_text(response.headers, _RATE_LIMITED_BY_HEADER)

    def _default_message(self, response: httpx.Response) -> str:
        if any(d.message or d.code for d in self.errors):
            return super()._default_message(response)
        retry_after = parse_retry_after(response.headers)
        hint = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        return f"Rate limited by Wise{hint}"

    def _repr_fields(self) -> dict[str, object]:
        return {**super()._repr_fields(), "retry_after": self.retry_after}


class InternalServerError(APIStatusError):
    """5xx: Wise failed. Also how Wise reports a JOSE payload it could not decrypt."""


class ScaRequiredError(PermissionDeniedError):
    """403 with ``x-2fa-approval``: Wise wants strong customer authentication before doing this.

    Clear the challenges for ``one_time_token`` (or sign it) and retry the identical request, reusing
    ``idempotency_key``. The token is a credential: it is kept for that retry but never shown in
    ``str()`` or ``repr()``.
    """

    one_time_token: str
    challenges: list[ScaChallenge]
    action_type: str | None
    idempotency_key: str | None

    def __init__(
        self,
        message: str | None = None,
        *,
        response: httpx.Response,
        one_time_token: str | None = None,
        challenges: Sequence[ScaChallenge] = (),
        action_type: str | None = None,
        idempotency_key: str | None = None,
        errors: list[ErrorDetail] | None = None,
    ) -> None:
        super().__init__(message or self._sca_message(action_type), response=response, errors=errors)
        request = self.sent_request
        if one_time_token is None:
            one_time_token = response.headers.get(_SCA_TOKEN_HEADER) or (
                request.headers.get(_SCA_TOKEN_HEADER, "") if request is not None else ""
            )
        if idempotency_key is None and request is not None:
            idempotency_key = idempotency_key_of(request)  # header and body keys alike
        self.one_time_token = one_time_token
        self.challenges = list(challenges)
        self.action_type = action_type
        self.idempotency_key = idempotency_key
        if one_time_token and one_time_token in self.message:  # belt and braces: the body may echo it
            self.message = self.message.replace(one_time_token, "***")
            self.args = (self.message,)

    def _secret_values(self) -> list[str]:
        secrets = super()._secret_values()
        return [self.one_time_token, *secrets] if self.one_time_token else secrets

    _resume: Callable[[Mapping[str, str]], Awaitable[Any]] | None = None

    async def resume(self, *, signature: str | None = None) -> Any:
        """Send the identical request again, approved with this (now cleared) one-time token.

        Returns what the original call would have returned. ``signature`` is the base64
        ``X-Signature`` for the personal-token path; partner flows clear the challenges first.
        """
        if self._resume is None:
            raise RuntimeError("this error was not raised by a WiseClient call, so it cannot be resumed")
        headers = {_SCA_TOKEN_HEADER: self.one_time_token}
        if signature is not None:
            headers["X-Signature"] = signature
        return await self._resume(headers)

    @staticmethod
    def _sca_message(action_type: str | None) -> str:
        suffix = f" for {action_type}" if action_type else ""
        return f"Strong customer authentication required{suffix}"

    def _repr_fields(self) -> dict[str, object]:
        return {
            **super()._repr_fields(),
            "one_time_token": "***",
            "challenges": self.challenges,
            "action_type": self.action_type,
            "idempotency_key": self.idempotency_key,
        }


class ScaRejectedError(ScaRequiredError):
    """SCA was attempted (the request carried ``x-2fa-approval``) and Wise refused again.

    Raised instead of looping: e.g. signed OTTs are no longer accepted for UK/EEA personal tokens.
    """

    reason: str

    def __init__(
        self,
        message: str | None = None,
        *,
        response: httpx.Response,
        reason: str | None = None,
        one_time_token: str | None = None,
        challenges: Sequence[ScaChallenge] = (),
        action_type: str | None = None,
        idempotency_key: str | None = None,
        errors: list[ErrorDetail] | None = None,
    ) -> None:
        if errors is None:
            errors = parse_error_details(_body_of(response), response.headers.get("content-type"))
        if reason is None:
            reason = self._reason_from(response, errors)
        super().__init__(
            message or f"Strong customer authentication was rejected: {reason}",
            response=response,
            one_time_token=one_time_token,
            challenges=challenges,
            action_type=action_type,
            idempotency_key=idempotency_key,
            errors=errors,
        )
        self.reason = _truncate(_scrub(reason, self._secret_values()))

    @staticmethod
    def _reason_from(response: httpx.Response, errors: list[ErrorDetail]) -> str:
        for detail in errors:
            if detail.message:
                return detail.message
        result = _header_text(response.headers, _SCA_RESULT_HEADER)
        if result:
            return f"{_SCA_RESULT_HEADER}: {result}"
        return "Wise refused the approval"

    def _repr_fields(self) -> dict[str, object]:
        return {**super()._repr_fields(), "reason": self.reason}


class RedirectError(APIStatusError):
    """3xx: the SDK never follows a redirect for an API call, whatever ``http_client`` it was given.

    Nothing was sent to ``location`` (the redirect's target, secret query values masked): a payment
    request re-sent to another host could move money through someone else, and an answer from there
    is not Wise's.
    """

    location: str | None

    def __init__(
        self,
        message: str | None = None,
        *,
        response: httpx.Response,
        errors: list[ErrorDetail] | None = None,
    ) -> None:
        location = response.headers.get("location")
        self.location = None if location is None else _truncate(single_line(redact_url(location)))
        super().__init__(message, response=response, errors=errors)

    def _default_message(self, response: httpx.Response) -> str:
        target = f" to {self.location}" if self.location else ""
        return f"redirected{target}; the SDK does not follow redirects for API calls"

    def _repr_fields(self) -> dict[str, object]:
        return {**super()._repr_fields(), "location": self.location}


class APIResponseValidationError(APIError):
    """Wise answered 2xx but the body does not match the spec's model (a spec or SDK bug, not yours)."""

    response: httpx.Response

    def __init__(self, response: httpx.Response, message: str) -> None:
        super().__init__(redact_text(message), request=_request_of(response))
        self.response = _redacted_response(response, _body_of(response), self.request)
        self.status_code = response.status_code


class ResponseTooLargeError(APIError):
    """The response body grew past the client's ``max_response_bytes`` (counted after decompression)."""

    def __init__(self, limit: int, *, request: httpx.Request | None = None) -> None:
        super().__init__(f"response body exceeds max_response_bytes={limit}", request=request)
        self.limit = limit


class InvalidRequestError(WiseError, ValueError):
    """The call's arguments cannot make a valid request (a bad path parameter, an unknown enum value...).

    Raised before anything is sent.
    """


class ConfigurationError(WiseError, ValueError):
    """The client cannot be built as asked: an unknown environment, an unsafe or contradictory base URL,
    a credential or default header that cannot be sent in HTTP. Never shows a credential's value."""


class MissingCredentialsError(WiseError):
    """The operation needs a credential this client was not given (e.g. client id/secret)."""


class AuthorizationError(WiseError):
    """The OAuth redirect back from Wise cannot be used: ``state`` does not match, or the user declined."""


class ClientClosedError(WiseError, RuntimeError):
    """The ``WiseClient`` was used after ``aclose()`` (or after its ``async with`` block ended)."""


class PaginationError(WiseError):
    """Paging cannot continue safely, e.g. the server returned the same cursor twice."""


class JoseError(WiseError):
    """Base for JOSE (JWE/JWS) failures: encrypting, signing, decrypting or verifying a payload."""


class WebhookVerificationError(WiseError):
    """A webhook delivery failed signature verification and must not be trusted or parsed."""


class CoordinationError(WiseError):
    """A backend the processes of a fleet share — token store, rate limiter, webhook deduplicator (e.g.
    ``wise_async.redis``) — failed or did not answer within its own timeout. The message names the
    component and what it was doing, never a token."""


_STATUS_TO_ERROR: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def make_status_error(response: httpx.Response, *, message: str | None = None) -> APIStatusError:
    """Build the right :class:`APIStatusError` subclass for ``response``.

    The response should already be read (``await response.aread()``); an unread streaming response is
    described with an empty body. A 403 carrying ``x-2fa-approval`` becomes :class:`ScaRequiredError`,
    or :class:`ScaRejectedError` when the request already carried an approval.
    """
    status = response.status_code
    if status == 403:
        request = _request_of(response)
        attempted = request is not None and _SCA_TOKEN_HEADER in request.headers
        if attempted:
            return ScaRejectedError(message, response=response)
        if response.headers.get(_SCA_TOKEN_HEADER):
            return ScaRequiredError(message, response=response)
    if status >= 500:
        return InternalServerError(message, response=response)
    if 300 <= status < 400:
        return RedirectError(message, response=response)
    return _STATUS_TO_ERROR.get(status, APIStatusError)(message, response=response)
