"""Retry policy: when a failed Wise call may be sent again, and how long to wait first.

Small pure functions so the transport stays a thin loop and every rule is table-testable:

* :func:`parse_retry_after` — read ``retry-after-ms`` / ``Retry-After`` (seconds or HTTP-date).
* :func:`compute_delay` — honour the server's hint, else exponential backoff with jitter, capped.
* :func:`is_retryable_status` / :func:`is_replayable` — whether the failure is transient and whether
  repeating the request is safe (money moves on POST: only with an idempotency key).
* :func:`should_retry` — the one decision combining them with the attempt budget.

A 429 may be retried for any method: Wise did not process a rate-limited request. A ``Retry-After``
longer than :attr:`RetryPolicy.max_retry_after` is not waited out; the caller gives up and raises
``RateLimitError`` so the application can decide.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping

from ._record import Record, record, set_field

__all__ = [
    "REPLAYABLE_METHODS",
    "RETRYABLE_STATUS_CODES",
    "RetryPolicy",
    "compute_delay",
    "is_replayable",
    "is_retryable_status",
    "parse_retry_after",
    "should_retry",
]

RETRYABLE_STATUS_CODES = frozenset({429, 502, 503, 504})
"""Transient statuses. 500 is excluded: Wise reports real failures (e.g. JOSE decryption) as 500."""

REPLAYABLE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
"""Idempotent by HTTP semantics; POST and PATCH need an idempotency key to be replayed."""


def _configuration_error(message: str) -> Exception:
    from ._exceptions import ConfigurationError  # _exceptions imports this module

    return ConfigurationError(message)


@record
class RetryPolicy(Record):
    """How many times and how patiently to retry; frozen so one instance can be shared by clients.

    ``max_retries`` counts retries, not attempts (2 → at most 3 requests). ``jitter`` is the fraction
    by which a backoff delay may be shortened at random, to spread clients that failed together.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.25

    def __init__(
        self,
        max_retries: int = 2,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_retry_after: float = 60.0,
        jitter: float = 0.25,
    ) -> None:
        for name, value in (
            ("max_retries", max_retries),
            ("initial_delay", initial_delay),
            ("max_delay", max_delay),
            ("max_retry_after", max_retry_after),
            ("jitter", jitter),
        ):
            if not value >= 0:
                raise _configuration_error(f"RetryPolicy.{name} must be >= 0, not {value!r:.20}")
            set_field(self, name, value)
        if jitter > 1:
            raise _configuration_error(f"RetryPolicy.jitter must be <= 1, not {jitter!r:.20}")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    # Plain dicts are case-sensitive; httpx.Headers already answered above.
    for key, candidate in headers.items():
        if key.lower() == name:
            return candidate
    return None


def _parse_seconds(raw: str) -> float | None:
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None


def parse_retry_after(headers: Mapping[str, str], *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asked us to wait, or ``None`` if it gave no usable hint.

    ``retry-after-ms`` wins over ``Retry-After``; the latter may be integer or float seconds or an
    HTTP-date (measured against ``now``). Unparseable values give ``None``; past dates and negative
    values give ``0``.
    """
    raw_ms = _header(headers, "retry-after-ms")
    if raw_ms is not None:
        ms = _parse_seconds(raw_ms.strip())
        if ms is not None:
            return max(ms / 1000.0, 0.0)

    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    seconds = _parse_seconds(raw)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; HTTP-dates are always GMT
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(when.timestamp() - now(), 0.0)


def compute_delay(
    policy: RetryPolicy,
    attempt: int,
    retry_after: float | None = None,
    random_fn: Callable[[], float] = random.random,
) -> float:
    """Seconds to sleep before retry number ``attempt`` (0 for the first retry).

    A server hint is honoured as given (capped at ``max_retry_after``; whether to wait that long at
    all is :func:`should_retry`'s call). Otherwise ``initial_delay * 2**attempt`` capped at
    ``max_delay``, shortened by up to ``jitter`` of itself using ``random_fn()`` in ``[0, 1)``.
    """
    if retry_after is not None:
        return min(max(retry_after, 0.0), policy.max_retry_after)
    exponent = min(max(attempt, 0), 64)  # bounded: 2.0**1024 would raise OverflowError
    base = min(policy.initial_delay * (2.0**exponent), policy.max_delay)
    return base * (1.0 - policy.jitter * random_fn())


def is_retryable_status(status: int) -> bool:
    """Whether ``status`` signals a transient condition worth retrying (429, 502, 503, 504)."""
    return status in RETRYABLE_STATUS_CODES


def is_replayable(method: str, has_idempotency_key: bool) -> bool:
    """Whether sending the request twice cannot do the work twice.

    GET/HEAD/PUT/DELETE/OPTIONS are idempotent; POST/PATCH only when an idempotency key makes Wise
    deduplicate them.
    """
    return method.upper() in REPLAYABLE_METHODS or has_idempotency_key


def should_retry(
    policy: RetryPolicy,
    *,
    attempt: int,
    method: str,
    has_idempotency_key: bool,
    status: int | None,
    retry_after: float | None = None,
) -> bool:
    """Decide whether failed try number ``attempt`` (0-based count of retries so far) is retried.

    ``status`` is ``None`` for a transport failure with no response (timeout, reset): the request may
    have reached Wise, so it is retried only if replayable. A 429 is retried for any method; 502/503/504
    only if replayable. A ``retry_after`` above ``max_retry_after`` always means give up.
    """
    if attempt >= policy.max_retries:
        return False
    if retry_after is not None and retry_after > policy.max_retry_after:
        return False
    if status is None:
        return is_replayable(method, has_idempotency_key)
    if status == 429:
        return True
    return is_retryable_status(status) and is_replayable(method, has_idempotency_key)
