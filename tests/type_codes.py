"""The generator's type codes as text (``list[A | B] | None``, ``A,dict[str,Any]|None``), split at the
top level only: separators inside brackets belong to a member."""

from __future__ import annotations


def members(type_code: str, separator: str = "|") -> list[str]:
    """``A | list[B | C] | None`` → ``["A", "list[B | C]", "None"]`` (stripped)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(type_code):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == separator and depth == 0:
            parts.append(type_code[start:index].strip())
            start = index + 1
    return [*parts, type_code[start:].strip()]
