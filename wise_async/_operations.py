"""The operation table: which spec operation a request is, found from its method and path.

The table itself is generated (``wise_api.operations``); this module holds its row type and the matcher,
so the auth flow and the transports can decide token kind, host and idempotency for any request —
whether it came from the facade or from a direct call of a generated ``wise_api`` function.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Final, Literal

import attrs

from ._api_version import path_quarter

TokenKind = Literal["UserToken", "PersonalToken", "ClientCredentialsToken", "BasicAuth"]
TWCARD_HOST_WORD = "twcard"


@attrs.frozen
class OperationSpec:
    """Facts about one operation that the spec states (or that the protocol notes make data)."""

    operation_id: str
    method: str
    path: str
    namespace: str
    method_name: str
    module: str
    security: tuple[tuple[str, ...], ...]
    deprecated: bool
    servers: tuple[str, ...]
    idempotency_header: str | None
    idempotency_body_key: str | None
    request_content_types: tuple[str, ...]

    @property
    def token_kinds(self) -> frozenset[str]:
        """Every scheme named by any security alternative (``BasicAuth`` only on ``/oauth/token``)."""
        return frozenset(kind for alternative in self.security for kind in alternative)

    @property
    def allows_anonymous(self) -> bool:
        """An empty alternative (``{}``) or no security at all means no token is needed."""
        return not self.security or any(len(alternative) == 0 for alternative in self.security)

    @property
    def client_credentials_only(self) -> bool:
        kinds = self.token_kinds
        return bool(kinds) and kinds <= {"ClientCredentialsToken"} and not self.allows_anonymous

    @property
    def uses_basic_auth(self) -> bool:
        return "BasicAuth" in self.token_kinds

    @property
    def api_version(self) -> str | None:
        """The calendar version (``2026Q4``) the bundle puts this operation at; None for ``/vN`` paths."""
        return path_quarter(self.path)

    @property
    def twcard(self) -> bool:
        """Card-secret operations served from Wise's separate twcard host."""
        return any(TWCARD_HOST_WORD in server for server in self.servers)


_ANY_VERSION: Final = r"(?:\d{4}Q[1-4]|v\d+)"


def _path_pattern(path: str) -> re.Pattern[str]:
    """A path template as a regex. A leading quarter (``/2026Q4/``) matches any quarter (a pinned
    version) and any ``/vN`` (the path the operation had before Wise moved it); see ``match``."""
    version = path_quarter(path)
    rest = path[len(version) + 1 :] if version else path
    parts = re.split(r"(\{[^}]+\})", rest)
    regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{'/' + _ANY_VERSION if version else ''}{regex}$")


class OperationTable:
    """Match ``(method, path)`` to an operation; literal segments win over templated ones."""

    def __init__(self, operations: Iterable[OperationSpec]) -> None:
        self._by_method: dict[str, list[tuple[int, re.Pattern[str], OperationSpec]]] = {}
        self._by_id: dict[str, OperationSpec] = {}
        for op in operations:
            literal_chars = len(re.sub(r"\{[^}]+\}", "", op.path))
            self._by_method.setdefault(op.method, []).append((literal_chars, _path_pattern(op.path), op))
            self._by_id[op.operation_id] = op
        for candidates in self._by_method.values():
            candidates.sort(key=lambda c: -c[0])

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[OperationSpec]:
        return iter(self._by_id.values())

    def by_id(self, operation_id: str) -> OperationSpec:
        return self._by_id[operation_id]

    def match(self, method: str, path: str) -> OperationSpec | None:
        """The operation at ``path``. A calendar-versioned operation also answers at any quarter, and at
        a ``/vN`` path when no operation of the bundle is there (code written before Wise moved it)."""
        moved: OperationSpec | None = None
        for _, pattern, op in self._by_method.get(method.upper(), ()):
            if pattern.match(path):
                if op.api_version is None or path_quarter(path) is not None:
                    return op
                moved = moved or op
        return moved


@lru_cache(maxsize=1)
def default_table() -> OperationTable:
    """The table of the generated client (imported on first use: it is 238 rows)."""
    from wise_api.operations import OPERATIONS

    return OperationTable(OPERATIONS)


def operation_path(operation_id: str, fallback: str, **params: object) -> str:
    """An operation's path as the bundle gives it (``/v1/...`` or ``/2026Q4/...``), parameters filled.

    Hand-written helpers call operations through this, so an operation Wise moves to a new version
    moves for them too; ``fallback`` (the documented path) serves if the bundle has no such operation.
    """
    try:
        template = default_table().by_id(operation_id).path
    except KeyError:
        template = fallback
    return re.sub(r"\{([^}]+)\}", lambda found: str(params[found.group(1)]), template)
