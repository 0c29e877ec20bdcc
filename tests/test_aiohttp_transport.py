"""Every aiohttp failure becomes the httpx error httpcore raises for the same failure (the retry layer's
"was it sent?" rule depends on it), with the SDK's wording; aiohttp's loggers are redacted.
The same faults over real sockets: tests/loopback (both pools)."""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp.client_reqrep import RequestInfo
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from wise_async._aiohttp_transport import AiohttpTransport, transport_error
from wise_async._http_client import OwnedHttpClient
from wise_async._transport import describe_transport_error

SECRET = "s3cr3t-token-value"
REQUEST_INFO = RequestInfo(
    URL(f"https://user:{SECRET}@api.example/v1/x?access_token={SECRET}"),
    "GET",
    CIMultiDictProxy(CIMultiDict()),
)


class _Key:
    ssl = True
    host, port = "api.example", 443


CASES = [
    # before anything was sent: safe to send again
    (aiohttp.ClientConnectorError(_Key(), ConnectionRefusedError(111, "refused")), httpx.ConnectError),  # type: ignore[arg-type]
    (aiohttp.ConnectionTimeoutError("Connection timeout to host"), httpx.ConnectTimeout),
    # after the request left: never "not sent"
    (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
    (aiohttp.ClientOSError(104, "Connection reset by peer"), httpx.ReadError),
    (aiohttp.SocketTimeoutError("Timeout on reading data from socket"), httpx.ReadTimeout),
    (aiohttp.ClientPayloadError("Response payload is not completed"), httpx.RemoteProtocolError),
    (
        aiohttp.ClientResponseError(REQUEST_INFO, (), status=400, message="Bad status line"),
        httpx.RemoteProtocolError,
    ),
    (aiohttp.InvalidURL("ftp://x"), httpx.UnsupportedProtocol),
]


@pytest.mark.parametrize(("raised", "expected"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_each_aiohttp_failure_is_the_httpx_error_httpcore_raises(raised: Exception, expected: type) -> None:
    error = transport_error(raised)
    assert type(error) is expected
    assert SECRET not in describe_transport_error(error) and "api.example" not in str(error)


def test_a_connection_error_says_why_from_the_operating_system() -> None:
    raised = aiohttp.ClientConnectorError(_Key(), ConnectionRefusedError(111, "Connect call failed"))  # type: ignore[arg-type]
    assert describe_transport_error(transport_error(raised)) == "could not connect: connection refused"  # type: ignore[arg-type]


def test_a_reset_mid_body_is_a_read_error() -> None:
    raised = aiohttp.ClientPayloadError("Response payload is not completed")
    raised.__cause__ = ConnectionResetError(104, "Connection reset by peer")
    error = transport_error(raised)
    assert isinstance(error, httpx.ReadError)
    assert (
        describe_transport_error(error)
        == "connection lost while reading the response: Connection reset by peer"
    )


def test_what_a_server_sent_is_redacted_in_the_message() -> None:
    raised = aiohttp.ClientResponseError(REQUEST_INFO, (), status=400, message=f"Bad header: Bearer {SECRET}")
    assert SECRET not in str(transport_error(raised))


def test_other_failures_are_left_alone() -> None:
    assert transport_error(ValueError("not aiohttp's")) is None


def test_aiohttp_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    import wise_async  # noqa: F401  (installs the filters)

    caplog.set_level(logging.DEBUG, logger="aiohttp.client")
    logging.getLogger("aiohttp.client").warning("request to %s failed", f"Authorization: Bearer {SECRET}")
    assert caplog.records and SECRET not in caplog.text


def test_a_client_used_from_a_second_event_loop_gets_a_pool_there(monkeypatch: pytest.MonkeyPatch) -> None:
    # aiohttp's pool belongs to one loop (httpcore's fails on a second one): asyncio.run() twice still works
    import asyncio
    import warnings

    from loopback.servers import serve_sockets
    from loopback.test_connection_pool import KeepAliveServer

    from wise_async import WiseClient

    monkeypatch.delenv("WISE_HTTP_BACKEND", raising=False)
    server = KeepAliveServer()
    with serve_sockets(server.handle) as url:
        wise = WiseClient(personal_token="t", base_url=url)

        async def status() -> int:
            return (await wise.http_client.get("/v1/me")).status_code

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)  # the first loop's session is left behind
            assert [asyncio.run(status()), asyncio.run(status())] == [200, 200]

            async def close() -> None:
                await wise.aclose()

            asyncio.run(close())
    assert server.connections == 2


@pytest.mark.parametrize(
    "headers",
    [
        [("Host", "a.example"), ("Authorization", "Bearer t"), ("X-A", "1"), ("x-a", "2")],
        [("X-Name", "Jos\u00e9".encode()), ("Accept", "*/*")],
        [("X-Latin", b"caf\xe9")],
    ],
)
def test_the_headers_handed_to_aiohttp_are_httpx_multi_items(headers: list[tuple[str, Any]]) -> None:
    from wise_async._aiohttp_transport import _text_items

    built = httpx.Headers(headers)
    assert _text_items(built) == built.multi_items()


async def _heads_received(transport: httpx.AsyncBaseTransport, headers: Any) -> list[bytes]:
    """The header lines a loopback server receives for one GET through ``transport``, lower-cased."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.extend(line.lower() for line in head.split(b"\r\n")[1:-2])
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, OwnedHttpClient(base_url=f"http://127.0.0.1:{port}", transport=transport) as client:
        response = await client.get("/x", headers=headers)
    assert response.status_code == 200
    return sorted(line for line in seen if line.startswith(b"x-"))


@pytest.mark.parametrize(
    "headers",
    [[("X-A", "1"), ("x-a", "2")], {"X-Name": "Jos\u00e9".encode()}],
    ids=["names that differ in case only", "non-ASCII bytes"],
)
async def test_aiohttp_sends_the_header_lines_httpcore_sends(headers: Any) -> None:
    ours = await _heads_received(
        AiohttpTransport(ssl_context=ssl.create_default_context(), limits=httpx.Limits()), headers
    )
    theirs = await _heads_received(httpx.AsyncHTTPTransport(), headers)
    assert ours == theirs and theirs
