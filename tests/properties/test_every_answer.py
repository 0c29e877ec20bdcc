"""Property: whatever Wise (or anything between us and Wise) answers, every SDK call ends in its documented
result or a ``WiseError``.

Hypothesis draws whole exchanges — statuses (including 1xx, 3xx, undeclared 2xx, 999), content types,
encodings (valid and corrupt gzip/deflate), bodies (random JSON, deep nesting, truncation, invalid
UTF-8, oversize), SCA and Retry-After headers, and connections cut mid-body — and serves them to calls
of every kind: typed facade reads and writes, binary downloads, statements, paging, card secrets, JOSE
keys, token exchanges and refresh. Bodies are streamed to the client (never handed over pre-read).
The run prints what happened; any escape, ``None`` or non-2xx success fails it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gzip
import json
import os
import socketserver
import uuid
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loopback.servers import serve_sockets

from wise_async import RetryPolicy, WiseClient, WiseError

CAP = 64 * 1024
EXAMPLES = int(os.environ.get("WISE_PROPERTY_EXAMPLES", "800"))
CALLS_PER_EXAMPLE = 3  # each drawn exchange is served to three different calls
NO_WAIT = RetryPolicy(max_retries=1, initial_delay=0.0, max_delay=0.0, max_retry_after=0.01)


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    cut_after: int | None  # bytes delivered before the connection drops


class _Body(httpx.AsyncByteStream):
    def __init__(self, body: bytes, cut_after: int | None) -> None:
        self._body, self._cut = body, cut_after

    async def __aiter__(self) -> AsyncIterator[bytes]:
        end = len(self._body) if self._cut is None else min(self._cut, len(self._body))
        for start in range(0, end, 4096):
            yield self._body[start : min(start + 4096, end)]
        if self._cut is not None:
            raise httpx.ReadError("connection reset mid-body")


class ScriptedTransport(httpx.AsyncBaseTransport):
    """Answers each request with the next drawn answer (the last one repeats); streams every body."""

    def __init__(self, answers: list[Answer]) -> None:
        self._answers = answers
        self.served: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        answer = self._answers[min(len(self.served), len(self._answers) - 1)]
        self.served.append(answer.status)
        return httpx.Response(
            answer.status, headers=answer.headers, stream=_Body(answer.body, answer.cut_after)
        )


# ---------------------------------------------------------------------------------------- answers

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(alphabet='aZ0 é€\u0000"\\', max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["id", "type", "status", "amount", "items", "content", "error", "errors", "x", ""]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=12,
)
plausible = st.sampled_from(
    [
        {"id": 1, "type": "personal", "details": {"firstName": "A"}},
        [{"id": 1, "type": "PERSONAL"}],
        {"error": "invalid_token", "error_description": "expired"},
        {"errors": [{"code": "x", "message": "y", "path": "amount"}]},
        {"access_token": "tok", "expires_in": 3600, "refresh_token": "r"},
        {"access_token": None},
        {"access_token": "tok", "expires_in": "soon"},
        {"oneTimeTokenProperties": {"challenges": [{"primaryChallenge": {"type": "PIN"}, "required": True}]}},
        {"oneTimeTokenProperties": []},
        {"version": 1, "key": "not-a-key"},
        {"keyMaterial": {"keyMaterial": "AAAA", "algorithm": "RSA_OAEP_256"}},
        {"content": [], "seekPositionForNext": None},
        {"content": [{"id": 1}], "seekPositionForNext": 1},
    ]
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["json", "plausible", "deep", "truncated", "bytes", "utf8", "huge", "empty"]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "plausible":
        return json.dumps(draw(plausible)).encode()
    if kind == "deep":
        depth = draw(st.integers(500, 50_000))
        return b"[" * depth + b"]" * draw(st.sampled_from([0, depth]))
    if kind == "truncated":
        whole = json.dumps(draw(plausible)).encode()
        return whole[: draw(st.integers(0, max(0, len(whole) - 1)))]
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "utf8":
        return b'{"id": "\xff\xfe\xc3"}'
    if kind == "huge":
        return b'{"x": "' + b"a" * (CAP + draw(st.integers(1, CAP))) + b'"}'
    return b""


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    status = draw(
        st.sampled_from([200, 200, 200, 201, 202, 204, 207, 299, 301, 302, 304, 400, 401, 403, 404])
        | st.sampled_from([409, 422, 429, 500, 502, 503, 504, 100, 999])
        | st.integers(100, 999)
    )
    body = draw(bodies())
    headers: list[tuple[str, str]] = []
    content_type = draw(
        st.sampled_from(
            [
                *("application/json", "application/json", "application/jose+json", "text/html"),
                *("text/plain", "application/pdf", "application/octet-stream", ""),
                "application/json; charset=latin-1",
            ]
        )
    )
    if content_type:
        headers.append(("content-type", content_type))
    encoding = draw(st.sampled_from(["", "", "", "gzip", "deflate", "gzip-corrupt", "br", "identity"]))
    if encoding == "gzip":
        body = gzip.compress(body)
    elif encoding == "deflate":
        body = zlib.compress(body)
    elif encoding == "gzip-corrupt":
        body, encoding = b"\x1f\x8b\x08\x00" + body[:20], "gzip"
    if encoding:
        headers.append(("content-encoding", encoding))
    if draw(st.booleans()) and status in (403, 200):
        headers.append(("x-2fa-approval", "ott-" + draw(st.text("abc123", min_size=1, max_size=8))))
    if status == 429 or draw(st.integers(0, 9)) == 0:
        headers.append(("retry-after", draw(st.sampled_from(["0", "1", "-5", "soon", "1e309", "0.001"]))))
    cut = draw(st.none() | st.integers(0, max(0, len(body) - 1))) if body and draw(st.booleans()) else None
    return Answer(status, headers, body, cut)


# ---------------------------------------------------------------------------------------- calls

Call = Callable[[WiseClient], Awaitable[Any]]
SOME_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


async def _first_page(wise: WiseClient, name: str) -> Any:
    items = []
    async for item in (
        wise.paginate(name, max_items=30) if name == "recipientList" else wise.paginate(name, 7, max_items=30)
    ):
        items.append(item)
    return items


CALLS: dict[str, Call] = {
    # typed facade: reads of models, lists and unions
    "profiles.list": lambda w: w.profiles.list(),
    "profiles.get": lambda w: w.profiles.get(7),
    "quotes.get": lambda w: w.quotes.get(7, SOME_UUID),
    "recipients.get": lambda w: w.recipients.get(9),
    "transfers.get": lambda w: w.transfers.get(11),
    "transfers.list": lambda w: w.transfers.list(),
    "balances.list": lambda w: w.balances.list(7, types="STANDARD"),
    "currencies.get": lambda w: w.currencies.get(),
    "users.get_by_token": lambda w: w.users.get_by_token(),
    "comparisons.get (no auth)": lambda w: w.comparisons.get(source_currency="GBP", target_currency="EUR"),
    "activities.list": lambda w: w.activities.list(7),
    "cards.get": lambda w: w.cards.get(7, "card-token"),
    # writes: POST with and without idempotency keys, PUT, DELETE, bodies
    "quotes.create": lambda w: w.http_client.post("/v3/profiles/7/quotes", json={"sourceCurrency": "GBP"}),
    "transfers.cancel (PUT)": lambda w: w.transfers.cancel(11),
    "recipients.deactivate (DELETE)": lambda w: w.recipients.deactivate(9),
    "balances.delete (no body)": lambda w: w.balances.delete(7, 3),
    "sca_sessions.create": lambda w: w.sca_sessions.create(7),
    # client-credentials operation (token fetched from the same scripted server)
    "spend_controls.rules_list": lambda w: w.spend_controls.rules_list("client"),
    # binary downloads and statements
    "transfers.receipt_get (PDF)": lambda w: w.transfers.receipt_get(11),
    "files.transfer_receipt": lambda w: w.files.transfer_receipt(11),
    "statements.get json": lambda w: w.statements.get(7, 3, currency="EUR", start=START, end=START),
    "statements.get pdf": lambda w: w.statements.get(
        7, 3, currency="EUR", start=START, end=START, format="pdf"
    ),
    # paging
    "iter recipients": lambda w: _first_page(w, "recipientList"),
    "iter activities": lambda w: _first_page(w, "activityList"),
    "iter cards": lambda w: _first_page(w, "cardList"),
    # card secrets and JOSE keys
    "card_secrets.get_details": lambda w: w.card_secrets.get_details("card-token"),
    "card_secrets.encryption_key": lambda w: w.card_secrets.encryption_key(),
    "jose_keys.wise_encryption_key": lambda w: w.jose_keys.wise_encryption_key(),
    # token exchanges
    "exchange_authorization_code": lambda w: w.exchange_authorization_code("code", "https://app/cb"),
    "exchange_registration_code": lambda w: w.exchange_registration_code("a@b.c", "reg"),
}


def _client(
    transport: httpx.AsyncBaseTransport | None, credentials: str, base_url: str | None = None
) -> WiseClient:
    common: dict[str, Any] = {
        "base_url": base_url,
        "transport": transport,
        "retry_policy": NO_WAIT,
        "max_response_bytes": CAP,
        "client_id": "cid",
        "client_secret": "csecret",
    }
    if credentials == "user":
        return WiseClient(access_token="access-tok", refresh_token="refresh-tok", **common)
    if credentials == "personal":
        return WiseClient(personal_token="personal-tok", **common)
    return WiseClient(**common)


OUTCOMES: Counter[str] = Counter()
VIOLATIONS: list[str] = []
SERVED: list[int] = []


async def _run(name: str, credentials: str, scripted: list[Answer]) -> None:
    transport = ScriptedTransport(scripted)
    SERVED.append(0)
    try:
        await _call(name, credentials, transport)
    finally:
        SERVED[-1] = len(transport.served)


async def _call(name: str, credentials: str, transport: ScriptedTransport) -> None:
    async with _client(transport, credentials) as wise:
        try:
            result = await CALLS[name](wise)
        except WiseError as exc:
            OUTCOMES[f"error:{type(exc).__name__}"] += 1
            str(exc), repr(exc)  # describing an error must not fail either
            return
        except Exception as exc:  # an escape: the property is broken
            VIOLATIONS.append(f"{name}: escaped {type(exc).__name__}: {exc!s:.200}")
            return
    if result is None and name not in ("balances.delete (no body)",):
        VIOLATIONS.append(f"{name}: returned None (served {transport.served})")
    elif isinstance(result, httpx.Response):  # the raw http_client call: any status is a response
        OUTCOMES["raw response"] += 1
    elif transport.served and not 200 <= transport.served[-1] < 300:
        VIOLATIONS.append(f"{name}: success after a final {transport.served[-1]} (served {transport.served})")
    else:
        OUTCOMES["result"] += 1


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    names=st.lists(
        st.sampled_from(sorted(CALLS)), min_size=CALLS_PER_EXAMPLE, max_size=CALLS_PER_EXAMPLE, unique=True
    ),
    credentials=st.sampled_from(["user", "personal", "client"]),
    scripted=st.lists(answers(), min_size=1, max_size=4),
)
def _every_answer(names: list[str], credentials: str, scripted: list[Answer]) -> None:
    async def run_all() -> None:
        for name in names:
            await _run(name, credentials, scripted)

    asyncio.run(run_all())


def test_every_answer_ends_in_a_result_or_a_wise_error(capsys: pytest.CaptureFixture[str]) -> None:
    OUTCOMES.clear()
    VIOLATIONS.clear()
    SERVED.clear()
    _every_answer()
    calls, answers_served = sum(OUTCOMES.values()) + len(VIOLATIONS), sum(SERVED)
    with capsys.disabled():
        print(
            f"\nproperty: {answers_served} generated answers to {calls} calls of {len(CALLS)} kinds: "
            f"{len(VIOLATIONS)} escapes/None/non-2xx successes; "
            + ", ".join(f"{k} {v}" for k, v in OUTCOMES.most_common())
        )
    assert len(CALLS) >= 25
    assert calls == EXAMPLES * CALLS_PER_EXAMPLE
    if "WISE_PROPERTY_EXAMPLES" not in os.environ:  # the full run; other Pythons may run a sample
        assert answers_served >= 2000
    assert not VIOLATIONS, "\n".join(VIOLATIONS[:20])


# ------------------------------------------------------------------------- the same over real sockets


class _SocketScript:
    """A loopback HTTP server that writes each drawn answer byte for byte, cutting it where drawn."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.served: list[int] = []
        self.url = ""

    def handle(self, handler: socketserver.StreamRequestHandler) -> None:
        while handler.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass  # the request line and headers (the SDK's bodies are small: read below)
        answer = self.answers[min(len(self.served), len(self.answers) - 1)]
        self.served.append(answer.status)
        head = [f"HTTP/1.1 {answer.status} X", *(f"{k}: {v}" for k, v in answer.headers)]
        head += [f"content-length: {len(answer.body)}", "connection: close"]
        body = answer.body if answer.cut_after is None else answer.body[: answer.cut_after]
        with contextlib.suppress(OSError):
            handler.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


SOCKET_EXAMPLES = max(1, EXAMPLES // 4)
# the full count on the default pool (aiohttp's), a sample on httpcore's (the same code above the pool)
SOCKET_EXAMPLES_BY_BACKEND = {"aiohttp": SOCKET_EXAMPLES, "httpcore": max(1, SOCKET_EXAMPLES // 4)}


@pytest.fixture(scope="module")
def socket_script() -> Iterator[_SocketScript]:
    script = _SocketScript()
    with serve_sockets(script.handle) as url:
        script.url = url
        yield script


def test_every_answer_over_a_real_socket_ends_in_a_result_or_a_wise_error(
    socket_script: _SocketScript, capsys: pytest.CaptureFixture[str], http_backend: str
) -> None:
    outcomes: Counter[str] = Counter()
    violations: list[str] = []

    @settings(
        max_examples=SOCKET_EXAMPLES_BY_BACKEND[http_backend],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        name=st.sampled_from(sorted(CALLS)),
        credentials=st.sampled_from(["user", "personal", "client"]),
        scripted=st.lists(answers(), min_size=1, max_size=3),
    )
    def run(name: str, credentials: str, scripted: list[Answer]) -> None:
        socket_script.answers, socket_script.served = scripted, []

        async def call() -> None:
            async with _client(None, credentials, socket_script.url) as wise:
                try:
                    result = await CALLS[name](wise)
                except WiseError as exc:
                    outcomes[type(exc).__name__] += 1
                    return
                except Exception as exc:
                    violations.append(f"{name}: escaped {type(exc).__name__}: {exc!s:.200}")
                    return
            served = socket_script.served
            if result is None and name != "balances.delete (no body)":
                violations.append(f"{name}: returned None (served {served})")
            elif not isinstance(result, httpx.Response) and served and not 200 <= served[-1] < 300:
                violations.append(f"{name}: success after a final {served[-1]}")
            else:
                outcomes["result"] += 1

        asyncio.run(call())

    run()
    with capsys.disabled():
        print(
            f"\nproperty over loopback ({http_backend}): {sum(outcomes.values()) + len(violations)} calls, "
            f"{len(violations)} escapes/None/non-2xx successes"
        )
    assert not violations, "\n".join(violations[:20])
