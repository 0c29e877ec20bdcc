"""Recognising compact JOSE tokens (JWE, JWS) in HTTP bodies, without importing any JOSE library."""

from __future__ import annotations

import json
from typing import Any, Final

_B64URL: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def compact_segments(text: str) -> int:
    """4 for a compact JWE (5 parts), 2 for a JWS (3 parts), -1 for anything else."""
    if not text.startswith("eyJ") or not set(text) <= _B64URL:
        return -1
    dots = text.count(".")
    return dots if dots in (2, 4) else -1


def as_compact(content: bytes) -> str | None:
    """The compact token in a body sent raw or as a JSON string; None for anything else."""
    text = content.strip()
    if text[:1] == b'"':
        try:
            value: Any = json.loads(text)
        except ValueError:
            return None
        if not isinstance(value, str):
            return None
        candidate = value.strip()
    else:
        try:
            candidate = text.decode("ascii")
        except UnicodeDecodeError:
            return None
    return candidate if compact_segments(candidate) > 0 else None
