"""Wise's calendar versions: operations Wise has moved carry a quarter in their path (``/2026Q4/...``).

The bundle says which version each operation is at; ``WiseClient(api_version="2026Q3")`` pins the
operations that carry a quarter to another one (Wise makes breaking changes only at a new version).
Operations still at ``/vN`` paths, webhooks and the card-data host are not calendar-versioned.
"""

from __future__ import annotations

import re
from typing import Final

import httpx

__all__ = ["QUARTER", "check_api_version", "path_quarter", "pin_api_version"]

QUARTER: Final = re.compile(r"\d{4}Q[1-4]")
_LEADING_QUARTER: Final = re.compile(r"^/(\d{4}Q[1-4])(?=/|$)")


def check_api_version(value: str | None) -> str | None:
    """``None`` (what the bundle says) or a quarter such as ``"2026Q4"``; anything else is a
    :class:`~wise_async.ConfigurationError` (a ValueError)."""
    if value is None:
        return None
    if not isinstance(value, str) or not QUARTER.fullmatch(value.strip().upper()):
        from ._exceptions import ConfigurationError  # _exceptions imports this module (via _operations)

        shown = value[:20] if isinstance(value, str) else type(value).__name__
        raise ConfigurationError(f"api_version must look like '2026Q4' (year and quarter), not {shown!r}")
    return value.strip().upper()


def path_quarter(path: str) -> str | None:
    """The quarter a path template or request path starts with, if any."""
    found = _LEADING_QUARTER.match(path)
    return found.group(1) if found else None


def pin_api_version(url: httpx.URL, base_path: str, version: str) -> httpx.URL:
    """``url`` with the quarter right after ``base_path`` replaced by ``version``."""
    path = url.path
    prefix = base_path if base_path and path.startswith(base_path + "/") else ""
    rest = path[len(prefix) :]
    if path_quarter(rest) in (None, version):
        return url
    return url.copy_with(path=prefix + _LEADING_QUARTER.sub(f"/{version}", rest, count=1))
