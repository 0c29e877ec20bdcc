"""A controllable clock, so expiry (tokens, OTTs, quotes) is tested by moving time, never by sleeping."""

from __future__ import annotations

import datetime

__all__ = ["DEFAULT_EPOCH", "FakeClock", "format_iso", "format_wise_datetime"]

DEFAULT_EPOCH = 1_767_258_000.0
"""2026-01-01T09:00:00Z: a fixed start keeps ids, expiry stamps and snapshots reproducible."""


class FakeClock:
    """Wall-time-like seconds since the epoch that only move when a test says so.

    Hand the same object to the SDK under test so both sides agree on what "expired" means.
    """

    def __init__(self, start: float = DEFAULT_EPOCH) -> None:
        self._now = float(start)

    def now(self) -> float:
        """Current fake time, in seconds since the Unix epoch (like ``time.time()``)."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward (never back: expiry must not be undone) and return the new time."""
        if seconds < 0:
            raise ValueError("FakeClock only moves forward")
        self._now += float(seconds)
        return self._now

    def set(self, timestamp: float) -> None:
        """Jump to an absolute time; may go backwards, for tests that need it deliberately."""
        self._now = float(timestamp)

    def __repr__(self) -> str:
        return f"FakeClock({format_iso(self._now)})"


def _utc(timestamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)


def format_iso(timestamp: float, *, millis: bool = False) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, the form Wise uses for most timestamps."""
    text = _utc(timestamp).isoformat(timespec="milliseconds" if millis else "seconds")
    return text.replace("+00:00", "Z")


def format_wise_datetime(timestamp: float) -> str:
    """``YYYY-MM-DD HH:MM:SS`` (UTC, no zone): the older form transfers use for ``created``."""
    return _utc(timestamp).strftime("%Y-%m-%d %H:%M:%S")
