"""The route table: one row per operation (method, path template, operationId, accepted tokens)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ._http import FakeRequest, FakeResponse, Rejection, errors_response
from ._http import compile_path as _compile

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["Call", "Principal", "Route", "Router", "Security", "TokenKind", "route"]

_VERSION = re.compile(r"^/(v\d+|\d{4}Q[1-4])(?=/)")


TokenKind = Literal["user", "personal", "client"]

Security = Literal["user", "client", "anonymous", "basic"]
"""What an operation accepts, after the spec's ``security``:

* ``user`` — UserToken; personal tokens too (the spec's PersonalToken markings are incomplete).
* ``client`` — ClientCredentialsToken only.
* ``anonymous`` — no token needed; a valid token of any kind is also accepted.
* ``basic`` — client id/secret, checked by the handler itself (only ``POST /oauth/token``).
"""


@dataclass(frozen=True)
class Principal:
    """Who a bearer token stands for."""

    kind: TokenKind
    token: str
    user_id: int | None
    client_id: str | None


@dataclass(frozen=True)
class Call:
    """Everything a handler needs about one matched request."""

    request: FakeRequest
    route: Route
    params: dict[str, str]
    principal: Principal | None

    def int_param(self, name: str) -> int:
        value = self.params[name]
        try:
            return int(value)
        except ValueError:
            raise Rejection(
                errors_response(400, "NOT_VALID", f"Path parameter {name} must be an integer.", name)
            ) from None

    @property
    def user_id(self) -> int:
        """The acting user; handlers of ``user`` routes can rely on it being set."""
        if self.principal is None or self.principal.user_id is None:
            raise Rejection(errors_response(403, "ACCESS_DENIED", "No user behind this token."))
        return self.principal.user_id


Handler = Callable[["FakeWise", Call], FakeResponse]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    operation_id: str
    security: tuple[Security, ...]
    handler: Handler
    moved_from: str | None = None
    """The template a stateful route was written for, when the bundle moved it (``/v1/x`` → ``/2026Q4/x``)."""
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    literal_length: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", _compile(self.template))
        object.__setattr__(self, "literal_length", len(re.sub(r"\{[^}]+\}", "", self.template)))


def route(
    method: str, template: str, operation_id: str, security: Security | tuple[Security, ...]
) -> Callable[[Handler], Route]:
    """Decorator turning a handler function into a table row, keeping the row next to its code."""
    accepted = (security,) if isinstance(security, str) else security

    def wrap(handler: Handler) -> Route:
        return Route(method.upper(), template, operation_id, accepted, handler)

    return wrap


class Router:
    """Linear scan over the table: fine for a few hundred routes and trivially extendable."""

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self.routes: list[Route] = []
        self.add(*routes)

    def add(self, *routes: Route) -> None:
        self.routes.extend(routes)

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path params, whether the path exists under another method).

        The route with the most literal characters wins (``/v1/transfers/bulk`` over
        ``/v1/transfers/{id}``); among equals, the earlier one (stateful routes come first).
        """
        path_exists = False
        best: tuple[int, Route, dict[str, str]] | None = None
        for candidate in self.routes:
            found = candidate.pattern.fullmatch(path)
            if found is None:
                continue
            if candidate.method != method:
                path_exists = True
                continue
            if best is None or candidate.literal_length > best[0]:
                best = (candidate.literal_length, candidate, found.groupdict())
        if best is not None:
            return best[1], best[2], True
        return None, {}, path_exists

    def follow_bundle_paths(self, bundle_paths: dict[str, str]) -> None:
        """Serve each route also where the bundle now puts its operation, when only the leading version
        segment changed (``/v1/transfers`` → ``/2026Q4/transfers``); the written path keeps working."""
        moved = []
        for existing in self.routes:
            target = bundle_paths.get(existing.operation_id)
            if target is None or target == existing.template:
                continue
            old, new = _VERSION.match(existing.template), _VERSION.match(target)
            if old is None or new is None or old.group(0) == new.group(0):
                continue
            template = new.group(0) + existing.template[old.end() :]
            # the route, at the bundle's version, must serve the bundle's path (``statement.{suffix}``
            # serves ``statement.json``)
            if _compile(template).fullmatch(re.sub(r"\{[^}]+\}", "1", target)):
                moved.append(
                    Route(
                        existing.method,
                        template,
                        existing.operation_id,
                        existing.security,
                        existing.handler,
                        moved_from=existing.template,
                    )
                )
        self.add(*moved)

    def operation(self, operation_id: str) -> Route | None:
        return next((r for r in self.routes if r.operation_id == operation_id), None)
