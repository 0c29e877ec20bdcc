"""Per-call options and the client defaults they override, applied in one place for every operation.

Every facade method, iterator and helper takes the same keyword options (names as openai-python uses
them)::

    await wise.transfers.get(42, timeout=5, max_retries=0, extra_headers={"X-Debug": "1"})

``timeout`` as a number is the whole budget of the logical call — every retry, token refresh and SCA
replay included — and also caps each phase (connect, read, write); an ``httpx.Timeout`` sets the phases
only, as in httpx. ``max_retries`` and ``sca_handler`` reach the retrying transport and the auth flow as
request extensions, so a derived client (``with_options``) shares the connection pool and credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any, TypedDict

import httpx

from ._exceptions import InvalidRequestError
from ._header_values import check_header_fields
from ._idempotency import REQUESTED_KEY_EXTENSION
from ._record import Record, record, set_field

if TYPE_CHECKING:
    import uuid

    from ._sca import ScaHandler, SendRaw

MAX_RETRIES_EXTENSION = "wise_max_retries"
SCA_HANDLER_EXTENSION = "wise_sca_handler"
SCA_SEND_EXTENSION = "wise_sca_send"


def replay_request(original: httpx.Request, approval: Mapping[str, str]) -> dict[str, Any]:
    """``original`` as the keywords of a new call (an SCA resume): the same body, idempotency key and
    correlation id, the approval headers added, a current token attached by the auth flow; the SDK's
    extensions (keys, handlers) travel with it."""
    headers = httpx.Headers(original.headers)
    headers.pop("Authorization", None)
    headers.update(approval)
    return {
        "method": original.method,
        "url": original.url,
        "headers": headers,
        "content": original.content,
        "extensions": {k: v for k, v in original.extensions.items() if k.startswith("wise_")},
    }


PHASE_TIMEOUTS = httpx.Timeout(30.0, connect=10.0)
"""Per-phase limits under a numeric budget: a hung read is retried within the budget, not waited out."""
DEFAULT_TIMEOUT = 60.0
"""Seconds one logical call may take in all, retries and refreshes included."""

Timeout = float | httpx.Timeout


class RequestOptions(TypedDict, total=False):
    """Keyword options every SDK call accepts."""

    timeout: Timeout | None
    max_retries: int
    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, Any]
    extra_body: Mapping[str, Any]
    idempotency_key: str | uuid.UUID


@record
class ClientDefaults(Record):
    """What a client applies to every call unless the call says otherwise (``with_options`` derives)."""

    timeout: Timeout | None = DEFAULT_TIMEOUT
    max_retries: int | None = None  # None: the client's RetryPolicy
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # may carry a gateway's key
    sca_handler: ScaHandler | None = None  # None: the client's own
    sca_send: SendRaw | None = field(default=None, compare=False, repr=False)
    """How an SCA handler's requests (OTT status, verify) are sent: a derived client's own send, so they
    carry its defaults. None: the client that built the auth flow."""

    def __init__(
        self,
        timeout: Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        sca_handler: ScaHandler | None = None,
        sca_send: SendRaw | None = None,
    ) -> None:
        set_field(self, "timeout", timeout)
        set_field(self, "max_retries", max_retries)
        set_field(self, "headers", {} if headers is None else headers)
        set_field(self, "sca_handler", sca_handler)
        set_field(self, "sca_send", sca_send)


def phase_timeout(timeout: Timeout | None) -> httpx.Timeout:
    """The httpx timeout for one attempt: a number caps the default phases, a Timeout is used as is."""
    if timeout is None:
        return httpx.Timeout(None)
    if isinstance(timeout, httpx.Timeout):
        return timeout
    seconds = float(timeout)
    return httpx.Timeout(
        min(PHASE_TIMEOUTS.read or seconds, seconds),
        connect=min(PHASE_TIMEOUTS.connect or seconds, seconds),
    )


def budget_of(timeout: Timeout | None) -> float | None:
    """The whole-call budget in seconds, when ``timeout`` is a number."""
    if timeout is None or isinstance(timeout, httpx.Timeout):
        return None
    return float(timeout)


_OPTION_NAMES = frozenset(RequestOptions.__annotations__)


def check_options(options: Mapping[str, Any]) -> None:
    unknown = set(options) - _OPTION_NAMES
    if unknown:
        raise InvalidRequestError(
            f"unknown option(s) {sorted(unknown)}; expected some of {sorted(_OPTION_NAMES)}"
        )
    retries = options.get("max_retries")
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int) or retries < 0):
        raise InvalidRequestError("max_retries must be an int >= 0")
    extra_headers = options.get("extra_headers")
    if extra_headers:
        check_header_fields("extra_headers", extra_headers, InvalidRequestError)


_PHASE_TIMEOUTS: dict[float | None, httpx.Timeout] = {}


def _phase_timeout_of(timeout: Timeout | None) -> httpx.Timeout:
    """``phase_timeout`` for every call: a number's ``httpx.Timeout`` is built once (it is immutable)."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    cached = _PHASE_TIMEOUTS.get(timeout)
    if cached is None:
        cached = phase_timeout(timeout)
        if len(_PHASE_TIMEOUTS) < 64:
            _PHASE_TIMEOUTS[timeout] = cached
    return cached


def apply_options(
    request: dict[str, Any], defaults: ClientDefaults, options: Mapping[str, Any]
) -> tuple[dict[str, Any], float | None]:
    """Merge defaults and per-call options into httpx ``request`` keywords; return them and the budget."""
    if not options and not defaults.headers:  # the common call: nothing to merge or check
        extensions = request.get("extensions")
        extensions = {} if extensions is None else dict(extensions)
        if defaults.max_retries is not None:
            extensions[MAX_RETRIES_EXTENSION] = defaults.max_retries
        if defaults.sca_handler is not None:
            extensions[SCA_HANDLER_EXTENSION] = defaults.sca_handler
        if defaults.sca_send is not None:
            extensions[SCA_SEND_EXTENSION] = defaults.sca_send
        request["extensions"] = extensions
        timeout = defaults.timeout
        request["timeout"] = _phase_timeout_of(timeout)
        return request, budget_of(timeout)
    check_options(options)
    headers = httpx.Headers(defaults.headers)
    headers.update(request.get("headers") or {})
    headers.update(options.get("extra_headers") or {})
    request["headers"] = headers
    extra_query = options.get("extra_query")
    if extra_query:
        request["params"] = {**(request.get("params") or {}), **extra_query}
    extra_body = options.get("extra_body")
    if extra_body:
        _merge_body(request, extra_body)
    extensions = dict(request.get("extensions") or {})
    retries = options.get("max_retries", defaults.max_retries)
    if retries is not None:
        extensions[MAX_RETRIES_EXTENSION] = retries
    if defaults.sca_handler is not None:
        extensions[SCA_HANDLER_EXTENSION] = defaults.sca_handler
    if defaults.sca_send is not None:
        extensions[SCA_SEND_EXTENSION] = defaults.sca_send
    key = options.get("idempotency_key")
    if key is not None:
        extensions[REQUESTED_KEY_EXTENSION] = str(key)
    request["extensions"] = extensions
    timeout = options.get("timeout", defaults.timeout)
    request["timeout"] = _phase_timeout_of(timeout)
    return request, budget_of(timeout)


def _merge_body(request: dict[str, Any], extra: Mapping[str, Any]) -> None:
    if "json" in request:
        body = request["json"]
        if not isinstance(body, dict):
            raise InvalidRequestError("extra_body needs a JSON object body")
        request["json"] = {**body, **extra}
        return
    content = request.get("content")
    content_type = httpx.Headers(request.get("headers") or {}).get("content-type", "")
    if content is not None and "json" in content_type:
        from wise_api import wire

        body = wire.loads(content)  # Decimal in, the same literals out: amounts stay exact
        if not isinstance(body, dict):
            raise InvalidRequestError("extra_body needs a JSON object body")
        try:
            request["content"] = wire.dumps({**body, **extra}, path="extra_body")
        except ValueError as exc:  # a float for an amount: refused like one in the body
            raise InvalidRequestError(str(exc)) from None
        return
    if content is None and "data" not in request and "files" not in request:
        request["json"] = dict(extra)
        return
    raise InvalidRequestError("extra_body applies to JSON bodies only")
