"""Hooks: documented async callbacks around every logical call, for tracing, metrics and logging tools.

A logical call is one SDK call — ``await wise.transfers.create(...)`` — with everything the SDK does for
it: its HTTP attempts (retries), a token refresh and the replay after it, an SCA challenge and the replay
after it, the wait for the client-side rate limiter, JOSE encryption. Subclass :class:`Hooks`, override
the methods you need and pass instances as ``WiseClient(hooks=[...])``::

    class Timing(Hooks):
        async def after_call(self, call: CallInfo, outcome: CallOutcome) -> None:
            print(call.operation_id, outcome.error_type or "ok", f"{outcome.duration:.3f}s")

The events of one call, in order::

    before_call
      on_refresh       a token refreshed (before the request, or after a 401), with the fleet-lease wait
      on_jose          a request body encrypted or signed (JOSE operations)
      after_attempt    every HTTP attempt: retries, and the replay after a refresh or an SCA approval
      on_retry         after an attempt that will be sent again: why, and after how long
      on_sca           a 403 challenge handed to the SCA handler: approved, required (raised), failed
    after_call

Requests the SDK makes on a call's behalf (``/oauth/token`` for a refresh, the SCA handler's status and
verify calls) are logical calls of their own, with ``parent`` naming the call they serve.

Hooks are awaited inline in the call's task (a slow hook slows the call). An exception from a hook is
logged and dropped: observing a payout never fails it. Nothing secret reaches a hook: no token, OTT,
signature, body or credential header; URLs are redacted and the idempotency key comes as a hash.
:mod:`wise_async.otel` builds OpenTelemetry traces and metrics on these hooks.

A client without hooks pays one ``ContextVar`` read per attempt for all of this.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx

from ._idempotency import idempotency_key_of
from ._record import Record, record, set_field
from ._redaction import get_logger, redact_text, redact_url

if TYPE_CHECKING:
    from ._sca import ScaContext, ScaHandler

__all__ = [
    "AttemptInfo",
    "CallInfo",
    "CallOutcome",
    "Hooks",
    "JoseInfo",
    "RefreshInfo",
    "RetryInfo",
    "ScaInfo",
]

T = TypeVar("T")
logger = get_logger("hooks")
Replay = Literal["token_refresh", "sca"]
_EVENTS = ("before_call", "after_attempt", "on_retry", "on_refresh", "on_sca", "on_jose", "after_call")


def _ns(seconds_ago: float) -> int:
    """The wall-clock time (Unix ns) ``seconds_ago`` seconds before now."""
    return time.time_ns() - int(seconds_ago * 1e9)


@record
class CallInfo(Record):
    """One logical call. ``data`` is a dict for the hooks' own per-call state (key it by your hook)."""

    operation_id: str
    parent: CallInfo | None
    start_time_ns: int
    data: dict[Any, Any] = field(repr=False, compare=False)

    def __init__(
        self, operation_id: str, parent: CallInfo | None, start_time_ns: int, data: dict[Any, Any]
    ) -> None:
        set_field(self, "operation_id", operation_id)
        set_field(self, "parent", parent)
        set_field(self, "start_time_ns", start_time_ns)
        set_field(self, "data", data)


@record
class AttemptInfo(Record):
    """One HTTP attempt of a call: what was sent (redacted) and what came back, or what failed."""

    number: int  # 1 for the first attempt of the call, counting retries and replays
    method: str
    host: str
    port: int | None
    status_code: int | None  # None: no answer (``error_type`` says what failed)
    error_type: str | None  # the httpx exception's class name (``ReadError``, ``ConnectTimeout``...)
    trace_id: str | None  # Wise's ``x-trace-id``
    correlation_id: str | None  # the ``X-External-Correlation-Id`` the SDK sent
    idempotency_key_hash: str | None  # SHA-256 of the key (hex, first 16): equal on every attempt
    replay: Replay | None  # this attempt replays the request after a token refresh or SCA approval
    rate_limit_wait: float | None  # seconds queued for the client's rate limiter (None: it has none)
    start_time_ns: int
    duration: float
    _url: httpx.URL = field(repr=False, compare=False)

    def __init__(
        self,
        number: int,
        method: str,
        host: str,
        port: int | None,
        status_code: int | None,
        error_type: str | None,
        trace_id: str | None,
        correlation_id: str | None,
        idempotency_key_hash: str | None,
        replay: Replay | None,
        rate_limit_wait: float | None,
        start_time_ns: int,
        duration: float,
        _url: httpx.URL,
    ) -> None:
        set_field(self, "number", number)
        set_field(self, "method", method)
        set_field(self, "host", host)
        set_field(self, "port", port)
        set_field(self, "status_code", status_code)
        set_field(self, "error_type", error_type)
        set_field(self, "trace_id", trace_id)
        set_field(self, "correlation_id", correlation_id)
        set_field(self, "idempotency_key_hash", idempotency_key_hash)
        set_field(self, "replay", replay)
        set_field(self, "rate_limit_wait", rate_limit_wait)
        set_field(self, "start_time_ns", start_time_ns)
        set_field(self, "duration", duration)
        set_field(self, "_url", _url)

    @property
    def url(self) -> str:
        """The URL with userinfo and secret query values masked (made when first asked for)."""
        return redact_text(redact_url(str(self._url)))


@record
class RetryInfo(Record):
    """Attempt ``attempt`` failed and is sent again after ``delay`` seconds, because of ``reason``: the
    status (``"429"``, ``"503"``) or the transport error's class name (``"ReadError"``)."""

    attempt: int
    reason: str
    delay: float

    def __init__(self, attempt: int, reason: str, delay: float) -> None:
        set_field(self, "attempt", attempt)
        set_field(self, "reason", reason)
        set_field(self, "delay", delay)


@record
class RefreshInfo(Record):
    """A token refresh: ``reason`` ``"expired"`` (before sending) or ``"rejected"`` (after a 401);
    ``outcome`` ``"renewed"`` (this process asked Wise), ``"adopted"`` (another task or process had
    renewed it) or ``"failed"``; ``lease_wait``: seconds spent waiting for another process's lease."""

    reason: Literal["expired", "rejected"]
    outcome: Literal["renewed", "adopted", "failed"]
    error_type: str | None
    lease_wait: float
    start_time_ns: int
    duration: float

    def __init__(
        self,
        reason: Literal["expired", "rejected"],
        outcome: Literal["renewed", "adopted", "failed"],
        error_type: str | None,
        lease_wait: float,
        start_time_ns: int,
        duration: float,
    ) -> None:
        set_field(self, "reason", reason)
        set_field(self, "outcome", outcome)
        set_field(self, "error_type", error_type)
        set_field(self, "lease_wait", lease_wait)
        set_field(self, "start_time_ns", start_time_ns)
        set_field(self, "duration", duration)


@record
class ScaInfo(Record):
    """An SCA challenge (403 with ``x-2fa-approval``) handed to ``handler`` (its class name):
    ``outcome`` ``"approved"`` (the request is replayed), ``"required"`` (``ScaRequiredError`` for the
    app to resolve) or ``"failed"``."""

    operation_id: str | None
    handler: str
    outcome: Literal["approved", "required", "failed"]
    error_type: str | None
    start_time_ns: int
    duration: float

    def __init__(
        self,
        operation_id: str | None,
        handler: str,
        outcome: Literal["approved", "required", "failed"],
        error_type: str | None,
        start_time_ns: int,
        duration: float,
    ) -> None:
        set_field(self, "operation_id", operation_id)
        set_field(self, "handler", handler)
        set_field(self, "outcome", outcome)
        set_field(self, "error_type", error_type)
        set_field(self, "start_time_ns", start_time_ns)
        set_field(self, "duration", duration)


@record
class JoseInfo(Record):
    """A request body protected for Wise: ``method`` ``"jwe"``, ``"jws"`` or ``"jws+jwe"``."""

    method: str
    start_time_ns: int
    duration: float

    def __init__(self, method: str, start_time_ns: int, duration: float) -> None:
        set_field(self, "method", method)
        set_field(self, "start_time_ns", start_time_ns)
        set_field(self, "duration", duration)


@record
class CallOutcome(Record):
    """How a call ended. ``error_type`` is the class name of the error it raised, or of the typed error
    its non-2xx answer becomes (``NotFoundError``); None for a success."""

    duration: float
    attempts: int
    status_code: int | None
    error_type: str | None
    trace_id: str | None
    error: BaseException | None = field(repr=False, compare=False)

    def __init__(
        self,
        duration: float,
        attempts: int,
        status_code: int | None,
        error_type: str | None,
        trace_id: str | None,
        error: BaseException | None,
    ) -> None:
        set_field(self, "duration", duration)
        set_field(self, "attempts", attempts)
        set_field(self, "status_code", status_code)
        set_field(self, "error_type", error_type)
        set_field(self, "trace_id", trace_id)
        set_field(self, "error", error)


class Hooks:
    """Base class of call hooks: every method does nothing; override those you need."""

    async def before_call(self, call: CallInfo) -> None:
        """The call is about to start (in the caller's task and context)."""

    async def after_attempt(self, call: CallInfo, attempt: AttemptInfo) -> None:
        """An HTTP attempt ended: answered (any status) or failed."""

    async def on_retry(self, call: CallInfo, retry: RetryInfo) -> None:
        """The attempt that just ended will be sent again after ``retry.delay`` seconds."""

    async def on_refresh(self, call: CallInfo, refresh: RefreshInfo) -> None:
        """The call's token was refreshed (or the refresh failed)."""

    async def on_sca(self, call: CallInfo, sca: ScaInfo) -> None:
        """The SCA handler dealt with a challenge (approved, handed to the app, or failed)."""

    async def on_jose(self, call: CallInfo, jose: JoseInfo) -> None:
        """A request body was encrypted or signed with JOSE."""

    async def after_call(self, call: CallInfo, outcome: CallOutcome) -> None:
        """The call ended: a result, or the typed error the caller gets."""


Callback = Callable[..., Awaitable[None]]


class HookSet:
    """The callbacks of a client's hooks, by event (only those a hook overrides)."""

    def __init__(self, hooks: Sequence[Hooks]) -> None:
        self.hooks = tuple(hooks)
        self.callbacks: dict[str, tuple[Callback, ...]] = {
            event: tuple(
                getattr(hook, event)
                for hook in self.hooks
                if getattr(hook, event, None) is not None
                and getattr(type(hook), event, None) is not getattr(Hooks, event)
            )
            for event in _EVENTS
        }

    @classmethod
    def of(cls, hooks: Sequence[Hooks] | None) -> HookSet | None:
        if not hooks:
            return None
        if isinstance(hooks, Hooks):
            hooks = [hooks]
        return cls(hooks)

    async def emit(self, event: str, *args: Any) -> None:
        for callback in self.callbacks[event]:
            try:
                await callback(*args)
            except Exception as exc:  # observing a call never fails it
                owner = type(getattr(callback, "__self__", callback)).__name__
                logger.warning("hook %s.%s raised %s: %s", owner, event, type(exc).__name__, exc)

    async def observe(self, operation_id: str, call: Awaitable[T]) -> T:
        """Run one logical call with its events: ``before_call``, the call, ``after_call``."""
        parent = CURRENT_CALL.get()
        state = CallState(
            self, CallInfo(operation_id, parent.info if parent is not None else None, time.time_ns(), {})
        )
        running = CURRENT_CALL.set(state)
        try:
            try:
                await self.emit("before_call", state.info)
            except BaseException:
                getattr(call, "close", lambda: None)()
                raise
            try:
                result = await call
            except BaseException as exc:
                await state.finished(None, exc)
                raise
            await state.finished(result, None)
            return result
        finally:
            CURRENT_CALL.reset(running)


class CallState:
    """What the layers below learn about the logical call running in this task."""

    __slots__ = (
        "_attempt_started",
        "_started",
        "attempts",
        "hooks",
        "info",
        "last_status",
        "last_trace_id",
        "lease_wait",
        "pending_replay",
        "rate_limit_wait",
    )

    def __init__(self, hooks: HookSet, info: CallInfo) -> None:
        self.hooks = hooks
        self.info = info
        self.attempts = 0
        self.last_status: int | None = None
        self.last_trace_id: str | None = None
        self.pending_replay: Replay | None = None
        self.rate_limit_wait: float | None = None
        self.lease_wait = 0.0
        self._started = time.perf_counter()
        self._attempt_started = 0.0

    def attempt_started(self) -> None:
        self.rate_limit_wait = None
        self._attempt_started = time.perf_counter()

    async def attempt_done(
        self, request: httpx.Request, response: httpx.Response | None, error: BaseException | None
    ) -> None:
        duration = time.perf_counter() - self._attempt_started
        self.attempts += 1
        replay, self.pending_replay = self.pending_replay, None
        key = idempotency_key_of(request)
        url = request.url
        trace_id = response.headers.get("x-trace-id") if response is not None else None
        if response is not None:
            self.last_status, self.last_trace_id = response.status_code, trace_id
        attempt = AttemptInfo(
            number=self.attempts,
            method=request.method,
            host=url.host,
            port=url.port,
            status_code=response.status_code if response is not None else None,
            error_type=type(error).__name__ if error is not None else None,
            trace_id=trace_id,
            correlation_id=request.headers.get("X-External-Correlation-Id"),
            idempotency_key_hash=hash_of(key) if key else None,
            replay=replay,
            rate_limit_wait=self.rate_limit_wait,
            start_time_ns=_ns(duration),
            duration=duration,
            _url=url,
        )
        await self.hooks.emit("after_attempt", self.info, attempt)

    async def retrying(self, reason: str, delay: float) -> None:
        await self.hooks.emit("on_retry", self.info, RetryInfo(self.attempts, reason, delay))

    async def finished(self, result: object, error: BaseException | None) -> None:
        duration = time.perf_counter() - self._started
        error_type = type(error).__name__ if error is not None else None
        status = self.last_status
        if error is None and status is not None and not 200 <= status < 300:
            from ._exceptions import make_status_error

            if isinstance(result, httpx.Response):  # the typed error the caller gets from this answer
                error_type = type(make_status_error(result)).__name__
        outcome = CallOutcome(duration, self.attempts, status, error_type, self.last_trace_id, error)
        await self.hooks.emit("after_call", self.info, outcome)


CURRENT_CALL: ContextVar[CallState | None] = ContextVar("wise_current_call", default=None)
"""The logical call running in this task, when its client has hooks (None otherwise: nothing to tell)."""


def hash_of(idempotency_key: str) -> str:
    """The idempotency key as hooks and spans show it: equal keys, equal hashes; the key stays unknown."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]


def note_rate_limit_wait(seconds: float) -> None:
    """The rate limiter held the current attempt for ``seconds``."""
    call = CURRENT_CALL.get()
    if call is not None:
        call.rate_limit_wait = (call.rate_limit_wait or 0.0) + seconds


def note_lease_wait(seconds: float) -> None:
    """A token refresh waited ``seconds`` for another process's refresh lease."""
    call = CURRENT_CALL.get()
    if call is not None:
        call.lease_wait += seconds


async def observe_refresh(
    refresh: Callable[[], Awaitable[bool]], reason: Literal["expired", "rejected"]
) -> None:
    """Run ``refresh`` (True when this process renewed the token) and tell the call's hooks."""
    call = CURRENT_CALL.get()
    if call is None:
        await refresh()
        return
    started, call.lease_wait = time.perf_counter(), 0.0
    try:
        renewed = await refresh()
    except BaseException as exc:
        duration = time.perf_counter() - started
        info = RefreshInfo(reason, "failed", type(exc).__name__, call.lease_wait, _ns(duration), duration)
        await call.hooks.emit("on_refresh", call.info, info)
        raise
    duration = time.perf_counter() - started
    outcome: Literal["renewed", "adopted"] = "renewed" if renewed else "adopted"
    info = RefreshInfo(reason, outcome, None, call.lease_wait, _ns(duration), duration)
    if reason == "rejected":
        call.pending_replay = "token_refresh"
    await call.hooks.emit("on_refresh", call.info, info)


async def approve_observed(handler: ScaHandler, context: ScaContext) -> Mapping[str, str]:
    """``handler.approve(context)``, told to the call's hooks."""
    call = CURRENT_CALL.get()
    if call is None:
        return await handler.approve(context)
    from ._exceptions import ScaRequiredError

    operation_id = context.operation.operation_id if context.operation is not None else None
    started = time.perf_counter()
    try:
        approval = await handler.approve(context)
    except BaseException as exc:
        duration = time.perf_counter() - started
        outcome: Literal["required", "failed"] = "required" if type(exc) is ScaRequiredError else "failed"
        info = ScaInfo(
            operation_id, type(handler).__name__, outcome, type(exc).__name__, _ns(duration), duration
        )
        await call.hooks.emit("on_sca", call.info, info)
        raise
    duration = time.perf_counter() - started
    call.pending_replay = "sca"
    info = ScaInfo(operation_id, type(handler).__name__, "approved", None, _ns(duration), duration)
    await call.hooks.emit("on_sca", call.info, info)
    return approval


async def note_jose(method: str, started: float) -> None:
    """A body was protected with JOSE since ``started`` (``time.perf_counter()``)."""
    call = CURRENT_CALL.get()
    if call is not None:
        duration = time.perf_counter() - started
        await call.hooks.emit("on_jose", call.info, JoseInfo(method, _ns(duration), duration))
