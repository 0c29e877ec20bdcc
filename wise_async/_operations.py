"""The operation table: which spec operation a request is, found from its method and path.

The table itself is generated (``wise_api.operations``); this module holds its row type and the matcher,
so the auth flow and the transports can decide token kind, host and idempotency for any request —
whether it came from the facade or from a direct call of a generated ``wise_api`` function.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import field
from functools import lru_cache
from typing import Literal

from ._api_version import path_quarter
from ._record import Record, record, set_field

TokenKind = Literal["UserToken", "PersonalToken", "ClientCredentialsToken", "BasicAuth"]
TWCARD_HOST_WORD = "twcard"


@record
class OperationSpec(Record):
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
    # Derived once (every request asks): not arguments, not compared, not shown.
    _token_kinds: frozenset[str] = field(init=False, compare=False, repr=False)
    _allows_anonymous: bool = field(init=False, compare=False, repr=False)
    _api_version: str | None = field(init=False, compare=False, repr=False)
    _twcard: bool = field(init=False, compare=False, repr=False)
    _client_credentials_only: bool = field(init=False, compare=False, repr=False)
    _uses_basic_auth: bool = field(init=False, compare=False, repr=False)

    def __init__(
        self,
        operation_id: str,
        method: str,
        path: str,
        namespace: str,
        method_name: str,
        module: str,
        security: tuple[tuple[str, ...], ...],
        deprecated: bool,
        servers: tuple[str, ...],
        idempotency_header: str | None,
        idempotency_body_key: str | None,
        request_content_types: tuple[str, ...],
    ) -> None:
        set_field(self, "operation_id", operation_id)
        set_field(self, "method", method)
        set_field(self, "path", path)
        set_field(self, "namespace", namespace)
        set_field(self, "method_name", method_name)
        set_field(self, "module", module)
        set_field(self, "security", security)
        set_field(self, "deprecated", deprecated)
        set_field(self, "servers", servers)
        set_field(self, "idempotency_header", idempotency_header)
        set_field(self, "idempotency_body_key", idempotency_body_key)
        set_field(self, "request_content_types", request_content_types)
        kinds = frozenset(kind for alternative in security for kind in alternative)
        anonymous = not security or any(len(option) == 0 for option in security)
        set_field(self, "_token_kinds", kinds)
        set_field(self, "_allows_anonymous", anonymous)
        set_field(
            self,
            "_client_credentials_only",
            bool(kinds) and kinds <= {"ClientCredentialsToken"} and not anonymous,
        )
        set_field(self, "_uses_basic_auth", "BasicAuth" in kinds)
        set_field(self, "_api_version", path_quarter(path))
        set_field(self, "_twcard", any(TWCARD_HOST_WORD in server for server in servers))

    @property
    def token_kinds(self) -> frozenset[str]:
        """Every scheme named by any security alternative (``BasicAuth`` only on ``/oauth/token``)."""
        return self._token_kinds

    @property
    def allows_anonymous(self) -> bool:
        """An empty alternative (``{}``) or no security at all means no token is needed."""
        return self._allows_anonymous

    @property
    def client_credentials_only(self) -> bool:
        return self._client_credentials_only

    @property
    def uses_basic_auth(self) -> bool:
        return self._uses_basic_auth

    @property
    def api_version(self) -> str | None:
        """The calendar version (``2026Q4``) the bundle puts this operation at; None for ``/vN`` paths."""
        return self._api_version

    @property
    def twcard(self) -> bool:
        """Card-secret operations served from Wise's separate twcard host."""
        return self._twcard


_PARAMETER = re.compile(r"\{[^}]+\}")
_ANY_VERSION = re.compile(r"\d{4}Q[1-4]|v\d+")
_ANY_QUARTER = object()  # a template's leading ``/2026Q4``: any quarter (a pinned version) or ``/vN`` (moved)
_ANY_VALUE = object()  # a ``{parameter}`` segment: any non-empty segment matches
_UNMATCHED = object()  # not looked up yet (``None`` is an answer: no operation there)
_MATCHES_KEPT = 1024

Segment = str | re.Pattern[str] | object


def _segments(path: str) -> list[Segment]:
    """A path template as per-segment matchers: literal text, any value, any quarter, or (for a segment
    mixing text and parameters) a regex of its own."""
    parts = path.split("/")
    segments: list[Segment] = list(parts)
    for index, part in enumerate(parts):
        if "{" not in part:
            if index == 1 and part[:1].isdigit() and path_quarter(path):
                segments[index] = _ANY_QUARTER
        elif part[0] == "{" and part.index("}") == len(part) - 1:
            segments[index] = _ANY_VALUE
        else:
            pieces = re.split(r"(\{[^}]+\})", part)
            segments[index] = re.compile(
                "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in pieces)
            )
    return segments


class _Node:
    """One level of the table's trie: literal children by text, then the templated ones."""

    __slots__ = ("literal", "ops", "templated")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.templated: list[tuple[Segment, _Node]] = []
        self.ops: list[tuple[int, int, OperationSpec]] = []  # (-literal chars, table order, op)

    def child(self, segment: Segment) -> _Node:
        if isinstance(segment, str):
            node = self.literal.get(segment)
            if node is None:
                node = self.literal[segment] = _Node()
            return node
        for existing, node in self.templated:
            if existing is segment or (
                isinstance(existing, re.Pattern) and isinstance(segment, re.Pattern) and existing == segment
            ):
                return node
        node = _Node()
        self.templated.append((segment, node))
        return node

    def collect(self, parts: list[str], index: int, found: list[tuple[int, int, OperationSpec]]) -> None:
        if index == len(parts):
            found.extend(self.ops)
            return
        part = parts[index]
        node = self.literal.get(part)
        if node is not None:
            node.collect(parts, index + 1, found)
        for segment, node in self.templated:
            if segment is _ANY_VALUE:
                matched = bool(part)
            elif segment is _ANY_QUARTER:
                matched = _ANY_VERSION.fullmatch(part) is not None
            else:
                matched = segment.fullmatch(part) is not None  # type: ignore[union-attr]
            if matched:
                node.collect(parts, index + 1, found)


class OperationTable:
    """Match ``(method, path)`` to an operation; literal segments win over templated ones.

    A trie per method over the path's segments (no regex per operation), built when the method is first
    looked up: a request walks only the branches its segments fit, and of the templates that fit, the
    one with the most literal characters wins (the first in table order on a tie).
    """

    def __init__(self, operations: Iterable[OperationSpec]) -> None:
        self._by_id: dict[str, OperationSpec] = {}
        self._pending: dict[str, list[tuple[int, OperationSpec]]] = {}  # by method, until first matched
        self._by_method: dict[str, _Node] = {}
        self._matched: dict[tuple[str, str], OperationSpec | None] = {}
        for order, op in enumerate(operations):
            self._pending.setdefault(op.method, []).append((order, op))
            self._by_id[op.operation_id] = op

    def _trie(self, method: str) -> _Node | None:
        """The method's trie, built on its first lookup (a client may never send some methods)."""
        root = self._by_method.get(method)
        if root is not None:
            return root
        pending = self._pending.get(method)
        if pending is None:
            return None
        root = _Node()  # published only when complete: another thread may be looking up meanwhile
        for order, op in pending:
            node = root
            for segment in _segments(op.path):
                if isinstance(segment, str):  # the common case, inline: a literal child by its text
                    child = node.literal.get(segment)
                    if child is None:
                        child = node.literal[segment] = _Node()
                    node = child
                else:
                    node = node.child(segment)
            literal_chars = len(_PARAMETER.sub("", op.path)) if "{" in op.path else len(op.path)
            node.ops.append((-literal_chars, order, op))
        return self._by_method.setdefault(method, root)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[OperationSpec]:
        return iter(self._by_id.values())

    def by_id(self, operation_id: str) -> OperationSpec:
        return self._by_id[operation_id]

    def match(self, method: str, path: str) -> OperationSpec | None:
        """The operation at ``path``. A calendar-versioned operation also answers at any quarter, and at
        a ``/vN`` path when no operation of the bundle is there (code written before Wise moved it).

        Answers are kept per method and path (up to ``_MATCHES_KEPT``): a client asks again for every call."""
        key = (method, path)
        op = self._matched.get(key, _UNMATCHED)
        if op is not _UNMATCHED:
            return op  # type: ignore[return-value]
        op = self._match(method, path)
        if len(self._matched) >= _MATCHES_KEPT:
            self._matched.clear()
        self._matched[key] = op
        return op

    def _match(self, method: str, path: str) -> OperationSpec | None:
        root = self._by_method.get(method) or self._trie(method.upper())
        if root is None:
            return None
        found: list[tuple[int, int, OperationSpec]] = []
        root.collect(path.split("/"), 0, found)
        if len(found) <= 1:
            return found[0][2] if found else None
        if path_quarter(path) is None and any(op.api_version is not None for _, _, op in found):
            direct = [candidate for candidate in found if candidate[2].api_version is None]
            found = direct or found
        return min(found, key=_rank)[2]


def _rank(candidate: tuple[int, int, OperationSpec]) -> tuple[int, int]:
    return candidate[0], candidate[1]


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
