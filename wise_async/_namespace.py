"""The base of the generated facade: one place that turns a generated call into a typed result.

Each generated facade method hands its endpoint module and arguments to ``Namespace._call``: build the
request with the module's ``_get_kwargs``, send it through the client's httpx stack (where auth, SCA,
retries and idempotency live), raise a typed error on non-2xx, and parse with ``_parse_response``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Awaitable, Mapping
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any, Protocol, TypeVar
from uuid import UUID

import httpx

from ._exceptions import (
    APIResponseValidationError,
    InvalidRequestError,
    ScaRejectedError,
    ScaRequiredError,
    WiseError,
    make_status_error,
)
from ._idempotency import idempotency_key_of, random_uuid_text
from ._options import replay_request
from ._response import WiseResponse

T = TypeVar("T")
_NO_OPTIONS: Mapping[str, Any] = MappingProxyType({})
_WARNED: set[str] = set()


class NamespaceHost(Protocol):
    """What a namespace needs from ``WiseClient``."""

    def _send_operation(
        self, request_kwargs: dict[str, Any], *, operation_id: str, options: Mapping[str, Any] = ...
    ) -> Awaitable[httpx.Response]: ...

    async def _download(
        self,
        request_kwargs: dict[str, Any],
        *,
        operation_id: str,
        to: str | os.PathLike[str],
        options: Mapping[str, Any] = ...,
    ) -> Path: ...

    @property
    def _generated_client(self) -> Any: ...


def _check_models(body: Any) -> None:
    from wise_api import wire

    for model in body if isinstance(body, list) else (body,):
        wire.check_model(model)


def _refuse_none(op: ModuleType, kwargs: Mapping[str, Any]) -> None:
    """``None`` for an argument whose type has no ``None``: refused, as in bodies (the spec allows no null
    there; leaving the argument out is how not to send it)."""
    import inspect

    parameters = inspect.signature(op._get_kwargs).parameters
    for name, value in kwargs.items():
        annotation = str(parameters[name].annotation) if name in parameters else "None"
        if value is None and "None" not in annotation.split(" | "):
            raise ValueError(
                f"{name}: expected {annotation.replace(' | Unset', '')}, got None; leave the argument out to "
                "not send it"
            )


class Namespace:
    """Base class of every generated namespace (``wise.transfers``, ``wise.quotes``...)."""

    def __init__(self, client: NamespaceHost) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    @staticmethod
    def _deprecated(message: str) -> None:
        """A DeprecationWarning for an operation Wise's spec deprecates: once per operation and process
        (type checkers see the method's ``@deprecated`` already)."""
        if message not in _WARNED:
            _WARNED.add(message)
            warnings.warn(message, DeprecationWarning, stacklevel=3)

    @staticmethod
    def _idempotency_uuid(value: UUID | None, options: Mapping[str, Any] = _NO_OPTIONS) -> UUID:
        """The operation's idempotency header: the argument, else the ``idempotency_key`` option, else new."""
        if value is not None:
            return value
        requested = options.get("idempotency_key")
        if requested is None:
            return UUID(random_uuid_text())
        try:
            return requested if isinstance(requested, UUID) else UUID(str(requested))
        except ValueError:
            raise InvalidRequestError("idempotency_key must be a UUID for this operation") from None

    def _request_kwargs(self, op: ModuleType, operation_id: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        try:
            request_kwargs: dict[str, Any] = op._get_kwargs(**kwargs)
        except (ValueError, TypeError, AttributeError) as exc:
            raise InvalidRequestError(f"{operation_id}: {exc}") from exc
        return request_kwargs

    async def _download(
        self,
        op: ModuleType,
        operation_id: str,
        *,
        to: str | os.PathLike[str],
        options: Mapping[str, Any] = _NO_OPTIONS,
        **kwargs: Any,
    ) -> Path:
        """Stream the operation's binary answer into the file ``to`` (bounded memory); return its path."""
        request_kwargs = self._request_kwargs(op, operation_id, kwargs)
        return await self._client._download(request_kwargs, operation_id=operation_id, to=to, options=options)

    def _checked_request_kwargs(
        self, op: ModuleType, operation_id: str, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """The operation's request from ``kwargs``; refused (``InvalidRequestError``) before sending."""
        try:
            if None in kwargs.values():
                _refuse_none(op, kwargs)
            if "body" in kwargs and hasattr(op, "_body"):
                kwargs["body"] = op._body(kwargs["body"])  # mappings become models, checked first
                _check_models(kwargs["body"])  # None only where the spec allows null
            request_kwargs: dict[str, Any] = op._get_kwargs(**kwargs)
        except (ValueError, TypeError, AttributeError) as exc:
            raise InvalidRequestError(f"{operation_id}: {exc}") from exc
        return request_kwargs

    def _offer_resume(
        self, exc: ScaRequiredError, op: ModuleType, operation_id: str, binary: bool, empty_ok: bool
    ) -> None:
        """Let the caller finish a call that needs SCA (``await exc.resume()``) once it is approved."""
        sent = exc.sent_request
        if sent is not None and not isinstance(exc, ScaRejectedError):
            exc._resume = self._resumer(op, operation_id, binary, empty_ok, sent)

    # _call and _call_raw send from their own frame (one coroutine fewer on every resumption of a call).

    async def _call_raw(
        self,
        op: ModuleType,
        operation_id: str,
        *,
        binary: bool,
        empty_ok: bool = False,
        options: Mapping[str, Any] = _NO_OPTIONS,
        **kwargs: Any,
    ) -> WiseResponse[Any]:
        request_kwargs = self._checked_request_kwargs(op, operation_id, kwargs)
        try:
            response = await self._client._send_operation(
                request_kwargs, operation_id=operation_id, options=options
            )
        except ScaRequiredError as exc:
            self._offer_resume(exc, op, operation_id, binary, empty_ok)
            raise
        return self._result(op, operation_id, binary, response, empty_ok)

    async def _call(
        self,
        op: ModuleType,
        operation_id: str,
        *,
        binary: bool,
        empty_ok: bool = False,
        options: Mapping[str, Any] = _NO_OPTIONS,
        **kwargs: Any,
    ) -> Any:
        request_kwargs = self._checked_request_kwargs(op, operation_id, kwargs)
        try:
            response = await self._client._send_operation(
                request_kwargs, operation_id=operation_id, options=options
            )
        except ScaRequiredError as exc:
            self._offer_resume(exc, op, operation_id, binary, empty_ok)
            raise
        return self._parsed(op, operation_id, binary, response, empty_ok)

    def _parsed(
        self, op: ModuleType, operation_id: str, binary: bool, response: httpx.Response, empty_ok: bool
    ) -> Any:
        """The parsed success, or a typed error: non-2xx, an unparseable body, or no body where the
        operation promises one (``empty_ok`` is set for operations whose success carries nothing)."""
        if not 200 <= response.status_code < 300:
            raise make_status_error(response)
        parsed: Any
        if binary:
            parsed = response.content
            if not parsed and not empty_ok:
                raise APIResponseValidationError(
                    response, f"{operation_id}: HTTP {response.status_code} without the expected content"
                )
            return parsed
        try:
            parsed = op._parse_response(client=self._client._generated_client, response=response)
        except WiseError:
            raise
        except Exception as exc:  # anything the generated parser trips on is Wise's body, not ours
            raise APIResponseValidationError(
                response,
                f"{operation_id}: response does not match the spec ({type(exc).__name__}: {exc})",
            ) from None
        if parsed is None and not empty_ok:
            raise APIResponseValidationError(
                response,
                f"{operation_id}: HTTP {response.status_code} did not carry the response the spec promises",
            )
        return parsed

    def _result(
        self, op: ModuleType, operation_id: str, binary: bool, response: httpx.Response, empty_ok: bool
    ) -> WiseResponse[Any]:
        """The parsed success with its status, headers, raw body and keys, or a typed error."""
        parsed = self._parsed(op, operation_id, binary, response, empty_ok)
        request = response.request
        return WiseResponse(
            parsed=parsed,
            status_code=response.status_code,
            headers=response.headers,
            content=response.content,
            idempotency_key=idempotency_key_of(request),
            correlation_id=request.headers.get("X-External-Correlation-Id"),
            trace_id=response.headers.get("x-trace-id"),
            http_response=response,
        )

    def _resumer(
        self, op: ModuleType, operation_id: str, binary: bool, empty_ok: bool, original: httpx.Request
    ) -> Any:
        """Replay ``original`` byte for byte (same body, idempotency key, correlation id) once approved."""

        async def resume(approval: Mapping[str, str]) -> Any:
            response = await self._client._send_operation(
                replay_request(original, approval), operation_id=operation_id
            )
            return self._parsed(op, operation_id, binary, response, empty_ok)

        return resume
