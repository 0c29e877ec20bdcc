"""Hostile input over real sockets: header bytes no ASCII decoder expects, CR/LF, 64 KiB values, secrets
echoed back — on every status class and on the SCA replay and token-refresh paths.

A loopback server writes each drawn answer byte for byte. Every call must end in its result or a
``WiseError`` (never ``UnicodeEncodeError`` or an httpx exception), and no secret the exchange carried may
appear in ``str``/``repr``/traceback of the error or in any log line (DEBUG on), where nothing that came
from the network may start a new line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socketserver
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wise_async import (
    ConfigurationError,
    PrivateKeyScaSigner,
    RedirectError,
    RetryPolicy,
    WiseClient,
    WiseError,
)
from wise_async._redaction import THIRD_PARTY_LOGGERS

from .servers import serve_sockets

TOKEN = "personal-7f3c9a1e-4b2d-token"
ACCESS = "access-2b9e6f1c-expired"
REFRESH = "refresh-91c0d4e7-secret"
OTT = "ott-5a7e2c11-approval"
CLIENT_SECRET = "client-secret-5e0b77aa"
# What each kind of client holds or is handed: none of it may be shown, even where the server echoes it in
# a body (the answers below never put a live credential in a header other than x-2fa-approval).
SECRETS = {"personal": (TOKEN,), "sca": (TOKEN, OTT), "token": (ACCESS, REFRESH, CLIENT_SECRET)}
# (the one-time token is a secret once Wise issued it in x-2fa-approval: before that it is just text)
EXAMPLES = max(40, int(os.environ.get("WISE_PROPERTY_EXAMPLES", "800")) // 4)
NO_WAIT = RetryPolicy(max_retries=1, initial_delay=0.0, max_delay=0.0, max_retry_after=0.01)
_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_SIGNER_PEM = _RSA_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


class _Script:
    """Serves the drawn answers in order, one per connection, exactly as drawn (no header checks)."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.served = 0
        self.url = ""

    def handle(self, handler: socketserver.StreamRequestHandler) -> None:
        length = 0
        while (line := handler.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or b"0")
        handler.rfile.read(length)
        answer = self.answers[min(self.served, len(self.answers) - 1)]
        self.served += 1
        head = b"HTTP/1.1 %d X\r\n" % answer.status
        head += b"".join(name + b": " + value + b"\r\n" for name, value in answer.headers)
        head += b"content-length: %d\r\nconnection: close\r\n\r\n" % len(answer.body)
        with contextlib.suppress(OSError):
            handler.wfile.write(head + answer.body)


# ------------------------------------------------------------------------------------------ strategies

_HEADER_NAMES = [
    b"x-trace-id",
    b"x-external-correlation-id",
    b"server",
    b"x-2fa-approval",
    b"x-2fa-approval-result",
    b"retry-after",
    b"location",
    b"x-rate-limited-by",
    b"content-type",
    b"www-authenticate",
]
_HOSTILE_VALUES = st.one_of(
    st.binary(min_size=1, max_size=40).map(lambda b: bytes(0x80 | x for x in b)),  # Latin-1 only
    st.text(min_size=1, max_size=20).map(lambda t: t.encode("utf-8", "replace")),
    st.sampled_from(
        [
            "café".encode("latin-1"),
            "café".encode(),
            b"abc\r\nx-injected: 1",
            b"line\rbreak",
            b"line\nbreak",
            b"\x1b[31mred",
            "ott-\u00e9".encode("latin-1"),
            b"x" * (64 * 1024),
            b"1" * 5000,
        ]
    ),
)
_HEADERS = st.lists(st.tuples(st.sampled_from(_HEADER_NAMES), _HOSTILE_VALUES), max_size=4)
_MESSAGES = st.sampled_from(
    [
        "forged\r\n2026-12-06 INFO wise_async: all good",
        "a" * (64 * 1024),
        f"token {TOKEN} was refused",
        f"approval {OTT} expired",
        f'{{"access_token": "{ACCESS}", "refresh_token": "{REFRESH}"}}',
        f"client_secret={CLIENT_SECRET}",
        "caf\u00e9 \u2028 \x1b[2J",
    ]
)


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["json", "text", "empty", "bytes"]))
    if kind == "json":
        return json.dumps({"errors": [{"code": "x", "message": draw(_MESSAGES)}]}).encode()
    if kind == "text":
        return draw(_MESSAGES).encode("utf-8")
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    return b""


@st.composite
def _answers(draw: st.DrawFn) -> Answer:
    errors = [201, 301, 302, 307, 308, 400, 401, 403, 404, 409, 429, 500, 503]
    status = draw(st.sampled_from([200] * len(errors) + errors))  # half of the answers are 200s
    headers = draw(_HEADERS)
    if status == 403 and draw(st.booleans()):
        headers.append((b"x-2fa-approval", draw(st.sampled_from([OTT.encode(), b"ott\xe9", b"ott\rx"]))))
    kind = draw(st.sampled_from(["token", "profiles", "any"])) if status == 200 else "any"
    if kind == "token":  # the token endpoint's answer, hostile or not
        token = draw(st.sampled_from(["fresh-token-1", "fresh\r\ntoken", "fresh t\u00f8ken", "fresh\x00"]))
        return Answer(status, headers, json.dumps({"access_token": token, "expires_in": 3600}).encode())
    if kind == "profiles":  # a valid (empty) profile list, whatever the headers
        return Answer(status, headers, b"[]")
    return Answer(status, headers, draw(_bodies()))


# ---------------------------------------------------------------------------------------------- calls


def _client(kind: str, url: str) -> WiseClient:
    common = {"base_url": url, "retry_policy": NO_WAIT, "timeout": 10.0}
    if kind == "personal":
        return WiseClient(personal_token=TOKEN, **common)  # type: ignore[arg-type]
    if kind == "sca":
        return WiseClient(personal_token=TOKEN, sca_handler=PrivateKeyScaSigner(_SIGNER_PEM), **common)  # type: ignore[arg-type]
    return WiseClient(  # an expired user token: the first request refreshes it at /oauth/token
        access_token=ACCESS,
        refresh_token=REFRESH,
        expires_at=0.0,
        client_id="client-id",
        client_secret=CLIENT_SECRET,
        **common,  # type: ignore[arg-type]
    )


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def _debug_logs() -> Iterator[_Lines]:
    handler = _Lines()
    loggers = [logging.getLogger(name) for name in ("wise_async", *THIRD_PARTY_LOGGERS)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


@pytest.fixture(scope="module")
def script() -> Iterator[_Script]:
    served = _Script()
    with serve_sockets(served.handle) as url:
        served.url = url
        yield served


def test_hostile_headers_and_bodies_end_typed_with_no_secret_and_no_forged_line(
    script: _Script, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes: Counter[str] = Counter()
    violations: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        kind=st.sampled_from(["personal", "sca", "token"]),
        first=_HEADERS,
        ott=st.sampled_from([OTT.encode(), b"ott\xe9", "ott-\u00e9".encode(), b"ott\rx", b" "]),
        token=st.sampled_from(["fresh-token-1", "fresh\r\ntoken", "fresh t\u00f8ken", "fresh\x00"]),
        answers=st.lists(_answers(), min_size=1, max_size=3),
    )
    def run(
        kind: str, first: list[tuple[bytes, bytes]], ott: bytes, token: str, answers: list[Answer]
    ) -> None:
        # Each kind's own path first: an SCA challenge (then the signed replay), or the token refresh.
        if kind == "sca":
            answers = [Answer(403, [*first, (b"x-2fa-approval", ott)], b""), *answers]
        elif kind == "token":
            body = json.dumps({"access_token": token, "expires_in": 3600}).encode()
            answers = [Answer(200, first, body), *answers]
        script.answers, script.served = answers, 0

        async def call() -> None:
            with _debug_logs() as logs:
                error: BaseException | None = None
                try:
                    async with _client(kind, script.url) as wise:
                        await wise.profiles.list()
                except WiseError as exc:
                    error = exc
                    outcomes[type(exc).__name__] += 1
                except Exception as exc:
                    violations.append(f"{kind}: escaped {type(exc).__name__}: {exc!s:.200}")
                    return
                else:
                    outcomes["result"] += 1
            texts = list(logs.lines)
            if error is not None:
                texts += [repr(error), "".join(traceback.format_exception(error))]
                if "\r" in str(error) or "\n" in str(error):
                    violations.append(f"{kind}: a line break in str(error): {str(error)[:200]!r}")
            for line in logs.lines:
                if "\r" in line or "\n" in line:
                    violations.append(f"{kind}: a line break in a log line: {line[:200]!r}")
            issued = any((b"x-2fa-approval", OTT.encode()) in a.headers for a in answers[: script.served])
            secrets = [secret for secret in SECRETS[kind] if secret != OTT or issued]
            for text in (*texts, str(error) if error is not None else ""):
                for secret in secrets:
                    if secret in text:
                        violations.append(f"{kind}: {secret} shown: {text[:300]!r}")

        asyncio.run(call())

    run()
    with capsys.disabled():
        print(
            f"\nhostile input over loopback: {sum(outcomes.values()) + len(violations)} calls, "
            f"{len(violations)} untyped/secret/line-break violations; "
            + ", ".join(f"{k} {v}" for k, v in outcomes.most_common())
        )
    assert not violations, "\n".join(violations[:20])
    assert outcomes["result"] > 0 and len(outcomes) > 5  # the strategies reach successes and many errors


# ------------------------------------------------------------------------------------------ redirects


class _Counting:
    """A loopback server that records each request line and answers with a fixed head and body."""

    def __init__(self, head: bytes, body: bytes = b"") -> None:
        self.head, self.body, self.requests = head, body, []  # type: ignore[var-annotated]

    def handle(self, handler: socketserver.StreamRequestHandler) -> None:
        request_line = handler.rfile.readline(65537)
        length = 0
        while (line := handler.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or b"0")
        self.requests.append((request_line, handler.rfile.read(length)))
        response = self.head + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(self.body) + self.body
        with contextlib.suppress(OSError):
            handler.wfile.write(response)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("client_kind", ["owned", "caller's client that follows redirects"])
async def test_a_redirect_is_never_followed_and_nothing_reaches_the_other_host(
    status: int, client_kind: str
) -> None:
    other = _Counting(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n", b'{"id": 666, "status": "x"}')
    with serve_sockets(other.handle) as other_url:
        first = _Counting(
            b"HTTP/1.1 %d Moved\r\nlocation: %s/v1/transfers?access_token=s3cr3t\r\n"
            % (status, other_url.encode())
        )
        with serve_sockets(first.handle) as url:
            http = httpx.AsyncClient(follow_redirects=True) if client_kind != "owned" else None
            async with WiseClient(
                personal_token=TOKEN, base_url=url, http_client=http, retry_policy=NO_WAIT
            ) as wise:
                with pytest.raises(RedirectError) as raised:
                    await wise.transfers.create(
                        body={"targetAccount": 1, "quoteUuid": "f1b0a6e2-3c8a-4a7e-9e0f-5d1f3a2b4c6d"}
                    )
                with pytest.raises(RedirectError):
                    await wise.profiles.list()
            if http is not None:
                await http.aclose()
    assert other.requests == []  # not the transfer body, not the token: nothing went to the other host
    assert len(first.requests) == 2  # a redirect is not retried either
    error = raised.value
    assert error.status_code == status
    assert error.location == f"{other_url}/v1/transfers?access_token=***"
    assert "s3cr3t" not in str(error) + repr(error) and TOKEN not in str(error) + repr(error)


# ---------------------------------------------------------------------------------------- credentials


@pytest.mark.parametrize("stray", ["\n", "\r\n", " ", "\t", " \t\r\n"])
async def test_whitespace_around_a_credential_is_stripped_before_it_is_sent(stray: str) -> None:
    seen = _Counting(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n", b"[]")
    headers: list[bytes] = []

    def capture(handler: socketserver.StreamRequestHandler) -> None:
        head = handler.rfile.peek(65536)  # type: ignore[attr-defined]  # a BufferedReader: left unread
        headers.extend(
            line.lower() for line in head.split(b"\r\n") if line.lower().startswith(b"authorization")
        )
        seen.handle(handler)

    with serve_sockets(capture) as url:
        async with WiseClient(personal_token=stray + TOKEN + stray, base_url=url) as wise:
            assert await wise.profiles.list() == []
    assert headers == [b"authorization: bearer " + TOKEN.lower().encode()]


@pytest.mark.parametrize(
    ("credential", "value", "why"),
    [
        ("personal_token", TOKEN + "\u00e9", "non-ASCII"),
        ("personal_token", TOKEN + "\u00a0", "non-ASCII"),  # a no-break space pasted with the token
        ("personal_token", TOKEN[:8] + "\u2013" + TOKEN[8:], "non-ASCII"),
        ("personal_token", TOKEN[:8] + "\r\n" + TOKEN[8:], "line break"),
        ("personal_token", TOKEN[:8] + " " + TOKEN[8:], "space"),
        ("personal_token", TOKEN + "\x00", "control"),
        ("access_token", TOKEN + "\u00e9", "non-ASCII"),
        ("refresh_token", TOKEN + "\n\n" + "x", "line break"),
        ("client_secret", TOKEN + "\u00e9", "non-ASCII"),
        ("personal_token", " \n ", "empty"),
    ],
)
def test_a_credential_no_header_can_carry_is_refused_when_the_client_is_built(
    credential: str, value: str, why: str
) -> None:
    kwargs = {credential: value}
    if credential in ("access_token", "refresh_token"):
        kwargs.setdefault("access_token", "access-ok")
        kwargs.setdefault("refresh_token", "refresh-ok")
    if credential == "client_secret":
        kwargs["client_id"] = "client-id"
    with pytest.raises(ConfigurationError, match=why) as raised:
        WiseClient(base_url="http://127.0.0.1:9", **kwargs)  # type: ignore[arg-type]
    assert isinstance(raised.value, ValueError)
    shown = str(raised.value) + repr(raised.value) + "".join(traceback.format_exception(raised.value))
    assert "7f3c9a1e" not in shown and credential in str(raised.value)
