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
      after_attempt    every HTTP attempt that got an answer or failed in transport: retries, and the
                       replay after a refresh or an SCA approval (one cut short by the call's budget or
                       the response size cap is told by after_call only)
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
RefreshReason = Literal["initial", "expired", "rejected"]
_EVENTS = ("before_call", "after_attempt", "on_retry", "on_refresh", "on_sca", "on_jose", "after_call")


def _ns(seconds_ago: float) -> int:
    """The wall-clock time (Unix ns) ``seconds_ago`` seconds before now."""
    return time.time_ns() - int(seconds_ago * 1e9)


class CallInfo:
    """One logical call. ``data`` is a dict for the hooks' own per-call state (key it by your hook)."""

    __slots__ = ("data", "operation_id", "parent", "start_time_ns")

    def __init__(self, operation_id: str, parent: CallInfo | None, start_time_ns: int) -> None:
        self.operation_id = operation_id
        self.parent = parent
        self.start_time_ns = start_time_ns
        self.data: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return f"CallInfo(operation_id={self.operation_id!r}, parent={self.parent!r})"


class AttemptInfo:
    """One HTTP attempt of a call: what was sent (redacted) and what came back, or what failed.

    The request-derived facts (``host``, ``url``, ``trace_id``, ``correlation_id``,
    ``idempotency_key_hash``) are read from the exchange when first asked for: a hook that does not
    look at them does not pay for them.
    """

    __slots__ = (
        "_request",
        "_response",
        "duration",
        "error_type",
        "method",
        "number",
        "rate_limit_wait",
        "replay",
        "start_time_ns",
        "status_code",
    )

    def __init__(
        self,
        number: int,
        request: httpx.Request,
        response: httpx.Response | None,
        error_type: str | None,
        replay: Replay | None,
        rate_limit_wait: float | None,
        duration: float,
        start_time_ns: int,
    ) -> None:
        self.number = number
        """1 for the first attempt of the call, counting retries and replays."""
        self.method = request.method
        self.status_code = response.status_code if response is not None else None
        """None: no answer (``error_type`` says what failed)."""
        self.error_type = error_type
        """The httpx exception's class name (``ReadError``, ``ConnectTimeout``...)."""
        self.replay = replay
        """This attempt replays the request after a token refresh or an SCA approval."""
        self.rate_limit_wait = rate_limit_wait
        """Seconds queued for the client's rate limiter, at the attempt's start (None: it has none)."""
        self.duration = duration
        self.start_time_ns = start_time_ns
        """When the attempt started (Unix ns), read then: spans sort by it."""
        self._request = request
        self._response = response

    def __repr__(self) -> str:
        return (
            f"AttemptInfo(number={self.number}, method={self.method!r}, url={self.url!r}, "
            f"status_code={self.status_code!r}, error_type={self.error_type!r}, replay={self.replay!r})"
        )

    @property
    def host(self) -> str:
        return self._request.url.host

    @property
    def port(self) -> int | None:
        return self._request.url.port

    @property
    def url(self) -> str:
        """The URL with userinfo and secret query values masked."""
        return redact_text(redact_url(str(self._request.url)))

    @property
    def trace_id(self) -> str | None:
        """Wise's ``x-trace-id``."""
        return self._response.headers.get("x-trace-id") if self._response is not None else None

    @property
    def correlation_id(self) -> str | None:
        """The ``X-External-Correlation-Id`` the SDK sent."""
        correlation_id: str | None = self._request.headers.get("X-External-Correlation-Id")
        return correlation_id

    @property
    def idempotency_key_hash(self) -> str | None:
        """SHA-256 of the idempotency key (hex, first 16): the same on every attempt of the call."""
        key = idempotency_key_of(self._request)
        return hash_of(key) if key else None


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
    """A token refresh: ``reason`` ``"initial"`` (the first token, e.g. client credentials), ``"expired"``
    (before sending) or ``"rejected"`` (after a 401);
    ``outcome`` ``"renewed"`` (this process asked Wise), ``"adopted"`` (another task or process had
    renewed it) or ``"failed"``; ``lease_wait``: seconds spent waiting for another process's lease."""

    reason: RefreshReason
    outcome: Literal["renewed", "adopted", "failed"]
    error_type: str | None
    lease_wait: float
    start_time_ns: int
    duration: float

    def __init__(
        self,
        reason: RefreshReason,
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


class CallOutcome:
    """How a call ended. ``error_type`` is the class name of the error it raised, or of the typed error
    its non-2xx answer becomes (``NotFoundError``); None for a success. ``error`` is the exception raised
    through the call, if one was."""

    __slots__ = ("_response", "attempts", "duration", "error", "error_type", "status_code")

    def __init__(
        self,
        duration: float,
        attempts: int,
        response: httpx.Response | None,
        error_type: str | None,
        error: BaseException | None,
    ) -> None:
        self.duration = duration
        self.attempts = attempts
        self.status_code = response.status_code if response is not None else None
        self.error_type = error_type
        self.error = error
        self._response = response

    def __repr__(self) -> str:
        return (
            f"CallOutcome(duration={self.duration:.6f}, attempts={self.attempts}, "
            f"status_code={self.status_code!r}, error_type={self.error_type!r})"
        )

    @property
    def trace_id(self) -> str | None:
        """Wise's ``x-trace-id`` of the last answer."""
        return self._response.headers.get("x-trace-id") if self._response is not None else None


class Hooks:
    """Base class of call hooks: every method does nothing; override those you need."""

    def enabled(self) -> bool:
        """Asked (synchronously) as each call starts. When every hook of the client says False, the call
        runs unobserved, at no cost (``OpenTelemetryHooks`` says False while no SDK is configured)."""
        return True

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
        self._asked = tuple(hook.enabled for hook in self.hooks)
        self.wanted: Callable[[], bool] = self._asked[0] if len(self._asked) == 1 else self._any_wants
        """Whether any hook wants the call that is starting."""
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

    def _any_wants(self) -> bool:
        return any(enabled() for enabled in self._asked)

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
            self, CallInfo(operation_id, parent.info if parent is not None else None, time.time_ns())
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
        "_attempt_started_ns",
        "_started",
        "attempts",
        "hooks",
        "info",
        "last_response",
        "lease_wait",
        "pending_replay",
        "rate_limit_wait",
    )

    def __init__(self, hooks: HookSet, info: CallInfo) -> None:
        self.hooks = hooks
        self.info = info
        self.attempts = 0
        self.last_response: httpx.Response | None = None
        self.pending_replay: Replay | None = None
        self.rate_limit_wait: float | None = None
        self.lease_wait = 0.0
        self._started = time.perf_counter()
        self._attempt_started = 0.0
        self._attempt_started_ns = 0

    def attempt_started(self) -> None:
        self.rate_limit_wait = None
        self._attempt_started = time.perf_counter()
        self._attempt_started_ns = time.time_ns()

    async def attempt_done(
        self, request: httpx.Request, response: httpx.Response | None, error: BaseException | None
    ) -> None:
        duration = time.perf_counter() - self._attempt_started
        self.attempts += 1
        replay, self.pending_replay = self.pending_replay, None
        if response is not None:
            self.last_response = response
        error_type = type(error).__name__ if error is not None else None
        attempt = AttemptInfo(
            self.attempts,
            request,
            response,
            error_type,
            replay,
            self.rate_limit_wait,
            duration,
            self._attempt_started_ns,
        )
        await self.hooks.emit("after_attempt", self.info, attempt)

    async def retrying(self, reason: str, delay: float) -> None:
        await self.hooks.emit("on_retry", self.info, RetryInfo(self.attempts, reason, delay))

    async def finished(self, result: object, error: BaseException | None) -> None:
        duration = time.perf_counter() - self._started
        error_type = type(error).__name__ if error is not None else None
        last = self.last_response
        if error is None and last is not None and not 200 <= last.status_code < 300:
            from ._exceptions import make_status_error

            if isinstance(result, httpx.Response):  # the typed error the caller gets from this answer
                error_type = type(make_status_error(result)).__name__
        outcome = CallOutcome(duration, self.attempts, last, error_type, error)
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


async def observe_refresh(refresh: Callable[[], Awaitable[bool]], reason: RefreshReason) -> None:
    """Run ``refresh`` (True when this process renewed the token) and tell the call's hooks."""
    call = CURRENT_CALL.get()
    if call is None:
        await refresh()
        return
    started, started_ns, call.lease_wait = time.perf_counter(), time.time_ns(), 0.0
    try:
        renewed = await refresh()
    except BaseException as exc:
        duration = time.perf_counter() - started
        info = RefreshInfo(reason, "failed", type(exc).__name__, call.lease_wait, started_ns, duration)
        await call.hooks.emit("on_refresh", call.info, info)
        raise
    duration = time.perf_counter() - started
    outcome: Literal["renewed", "adopted"] = "renewed" if renewed else "adopted"
    info = RefreshInfo(reason, outcome, None, call.lease_wait, started_ns, duration)
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
    # the wall-clock start is taken here, not worked back from the duration: spans the handler's own
    # calls open must sort after it
    started, started_ns = time.perf_counter(), time.time_ns()
    try:
        approval = await handler.approve(context)
    except BaseException as exc:
        duration = time.perf_counter() - started
        outcome: Literal["required", "failed"] = "required" if type(exc) is ScaRequiredError else "failed"
        info = ScaInfo(
            operation_id, type(handler).__name__, outcome, type(exc).__name__, started_ns, duration
        )
        await call.hooks.emit("on_sca", call.info, info)
        raise
    duration = time.perf_counter() - started
    call.pending_replay = "sca"
    info = ScaInfo(operation_id, type(handler).__name__, "approved", None, started_ns, duration)
    await call.hooks.emit("on_sca", call.info, info)
    return approval


async def note_jose(method: str, started: float) -> None:
    """A body was protected with JOSE since ``started`` (``time.perf_counter()``)."""
    call = CURRENT_CALL.get()
    if call is not None:
        duration = time.perf_counter() - started
        await call.hooks.emit("on_jose", call.info, JoseInfo(method, _ns(duration), duration))
