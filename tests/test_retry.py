from __future__ import annotations

import dataclasses
import email.utils
from collections.abc import Callable

import httpx
import pytest

from wise_async._retry import (
    RetryPolicy,
    compute_delay,
    is_replayable,
    is_retryable_status,
    parse_retry_after,
    should_retry,
)

NOW = 1_700_000_000.0


def _frozen_clock() -> float:
    return NOW


def _http_date(offset: float) -> str:
    return email.utils.formatdate(NOW + offset, usegmt=True)


# --------------------------------------------------------------------------------------------------
# RetryPolicy


def test_retry_policy_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.initial_delay, policy.max_delay) == (2, 0.5, 8.0)
    assert (policy.max_retry_after, policy.jitter) == (60.0, 0.25)


def test_retry_policy_is_frozen_and_validated() -> None:
    policy = RetryPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_retries = 5  # type: ignore[misc]
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=1.5)
    with pytest.raises(ValueError):
        RetryPolicy(initial_delay=float("nan"))


# --------------------------------------------------------------------------------------------------
# parse_retry_after


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "5"}, 5.0),
        ({"retry-after": "0"}, 0.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"Retry-After": " 7 "}, 7.0),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": ""}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "1, 2"}, None),
        ({"Retry-After": _http_date(30)}, 30.0),
        ({"Retry-After": _http_date(-30)}, 0.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5),
        ({"retry-after-ms": "bogus", "Retry-After": "9"}, 9.0),
        ({"Retry-After-Ms": "-10"}, 0.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=_frozen_clock) == expected


def test_parse_retry_after_reads_httpx_headers() -> None:
    assert parse_retry_after(httpx.Headers({"RETRY-AFTER": "12"})) == 12.0


# --------------------------------------------------------------------------------------------------
# compute_delay


def _no_jitter() -> float:
    return 0.0


def _max_jitter() -> float:
    return 1.0


@pytest.mark.parametrize(
    ("attempt", "random_fn", "expected"),
    [
        (0, _no_jitter, 0.5),
        (1, _no_jitter, 1.0),
        (2, _no_jitter, 2.0),
        (3, _no_jitter, 4.0),
        (4, _no_jitter, 8.0),
        (5, _no_jitter, 8.0),  # capped at max_delay
        (10_000, _no_jitter, 8.0),  # huge attempt numbers neither overflow nor exceed the cap
        (0, _max_jitter, 0.375),  # shortened by at most 25 %
        (2, lambda: 0.5, 1.75),
        (5, _max_jitter, 6.0),
    ],
)
def test_compute_delay_backoff(attempt: int, random_fn: Callable[[], float], expected: float) -> None:
    assert compute_delay(RetryPolicy(), attempt, None, random_fn) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(0.0, 0.0), (3.0, 3.0), (12.5, 12.5), (60.0, 60.0), (600.0, 60.0), (-1.0, 0.0)],
)
def test_compute_delay_honours_retry_after_without_jitter(retry_after: float, expected: float) -> None:
    assert compute_delay(RetryPolicy(), 1, retry_after, _max_jitter) == expected


def test_compute_delay_respects_custom_policy() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=3.0, jitter=0.0)
    assert [compute_delay(policy, n, None, _max_jitter) for n in range(4)] == [1.0, 2.0, 3.0, 3.0]


# --------------------------------------------------------------------------------------------------
# is_retryable_status / is_replayable


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, True),
        (502, True),
        (503, True),
        (504, True),
        (500, False),
        (501, False),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (422, False),
        (200, False),
    ],
)
def test_is_retryable_status(status: int, expected: bool) -> None:
    assert is_retryable_status(status) is expected


@pytest.mark.parametrize(
    ("method", "has_key", "expected"),
    [
        ("GET", False, True),
        ("HEAD", False, True),
        ("PUT", False, True),
        ("DELETE", False, True),
        ("OPTIONS", False, True),
        ("get", False, True),
        ("POST", False, False),
        ("PATCH", False, False),
        ("post", False, False),
        ("POST", True, True),
        ("PATCH", True, True),
    ],
)
def test_is_replayable(method: str, has_key: bool, expected: bool) -> None:
    assert is_replayable(method, has_key) is expected


# --------------------------------------------------------------------------------------------------
# should_retry


@pytest.mark.parametrize(
    ("attempt", "method", "has_key", "status", "retry_after", "expected"),
    [
        # 429: Wise did not process it, so any method may be retried...
        (0, "POST", False, 429, None, True),
        (0, "POST", False, 429, 5.0, True),
        (1, "GET", False, 429, 60.0, True),
        # ...unless the server asks for longer than we are willing to wait
        (0, "GET", False, 429, 61.0, False),
        (0, "POST", True, 429, 3600.0, False),
        # gateway errors: only if replaying cannot duplicate work
        (0, "GET", False, 503, None, True),
        (0, "DELETE", False, 502, None, True),
        (0, "POST", False, 503, None, False),
        (0, "POST", True, 504, None, True),
        (0, "PATCH", False, 502, None, False),
        # never for real failures
        (0, "GET", False, 500, None, False),
        (0, "GET", False, 400, None, False),
        (0, "GET", False, 401, None, False),
        # transport failure with no response: outcome unknown
        (0, "GET", False, None, None, True),
        (0, "POST", False, None, None, False),
        (0, "POST", True, None, None, True),
        # budget exhausted (max_retries=2 → attempts 0 and 1 may retry)
        (2, "GET", False, 503, None, False),
        (2, "POST", False, 429, 1.0, False),
    ],
)
def test_should_retry(
    attempt: int, method: str, has_key: bool, status: int | None, retry_after: float | None, expected: bool
) -> None:
    decision = should_retry(
        RetryPolicy(),
        attempt=attempt,
        method=method,
        has_idempotency_key=has_key,
        status=status,
        retry_after=retry_after,
    )
    assert decision is expected


def test_should_retry_with_zero_retries_never_retries() -> None:
    policy = RetryPolicy(max_retries=0)
    assert not should_retry(policy, attempt=0, method="GET", has_idempotency_key=False, status=503)


def test_full_schedule_for_a_flaky_get() -> None:
    """The waits a GET sees against three 503s with the default policy and a fixed random source."""
    policy = RetryPolicy()
    delays = []
    attempt = 0
    while should_retry(policy, attempt=attempt, method="GET", has_idempotency_key=False, status=503):
        delays.append(compute_delay(policy, attempt, None, lambda: 0.4))
        attempt += 1
    assert delays == pytest.approx([0.45, 0.9])
