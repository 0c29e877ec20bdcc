"""``OwnedHttpClient.send`` runs the auth flow over the transport itself: pinned against httpx's own ``send``
(the same requests through a stock ``httpx.AsyncClient``), so an httpx upgrade that changes what its send
does fails here."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Generator
from typing import Any

import httpx
import pytest

from wise_async._http_client import OwnedHttpClient


class RetryOn401(httpx.Auth):
    """A challenge/response flow: a first token, then a second one after a 401 (as the SDK's refresh)."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer first"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = "Bearer second"
            yield request


def handler(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/moved":
        return httpx.Response(302, headers={"Location": "/profiles"}, content=b"")
    if request.headers.get("Authorization") == "Bearer first":
        return httpx.Response(401, json={"error": "expired"})
    return httpx.Response(200, json=[{"id": 1}], headers={"X-Seen": request.headers.get("Authorization", "")})


def clients(**kwargs: Any) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    common = {"base_url": "https://api.example", "transport": httpx.MockTransport(handler)} | kwargs
    return OwnedHttpClient(**common), httpx.AsyncClient(**common)


def summary(response: httpx.Response) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "body": response.content,
        "history": [(r.status_code, r.request.headers.get("Authorization")) for r in response.history],
        "request_auth": response.request.headers.get("Authorization"),
        "timeout": response.request.extensions.get("timeout"),
        "next_request": str(response.next_request.url) if response.next_request else None,
        "encoding": response.default_encoding,
    }


@pytest.mark.parametrize("path", ["/profiles", "/moved"])
async def test_the_auth_flow_history_and_redirects_are_what_httpx_send_gives(path: str) -> None:
    owned, stock = clients(auth=RetryOn401(), timeout=7.0)
    async with owned, stock:
        ours, theirs = await owned.get(path), await stock.get(path)
    assert summary(ours) == summary(theirs)
    assert ours.is_closed == theirs.is_closed


class Chunks(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in (b'[{"id"', b":1}]"):
            yield chunk


class StreamingTransport(httpx.AsyncBaseTransport):
    """Answers with an unread body, as a socket transport does."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Chunks())


async def test_a_streamed_response_is_left_unread_and_gets_elapsed_when_closed() -> None:
    owned, stock = clients(transport=StreamingTransport())
    async with owned, stock:
        for client in (owned, stock):
            request = client.build_request("GET", "/profiles")
            response = await client.send(request, stream=True)
            assert not response.is_stream_consumed
            assert await response.aread() == b'[{"id":1}]'
            await response.aclose()
            assert response.elapsed.total_seconds() >= 0


async def test_httpx_request_log_line_is_written(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    owned, stock = clients(auth=RetryOn401())
    async with owned, stock:
        await owned.get("/profiles")
        ours = [r.getMessage() for r in caplog.records if r.name == "httpx"]
        caplog.clear()
        await stock.get("/profiles")
        theirs = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert ours == theirs and len(ours) == 2  # the 401 and the retried 200


async def test_event_hooks_and_followed_redirects_go_through_httpx_send() -> None:
    seen: list[str] = []

    async def on_request(request: httpx.Request) -> None:
        seen.append(request.url.path)

    owned = OwnedHttpClient(
        base_url="https://api.example",
        transport=httpx.MockTransport(handler),
        auth=RetryOn401(),
        event_hooks={"request": [on_request]},
    )
    async with owned:
        response = await owned.get("/moved", follow_redirects=True)
    assert response.status_code == 200 and sorted(r.status_code for r in response.history) == [302, 401]
    assert seen[0] == "/moved" and seen[-1] == "/profiles"  # the hook ran: httpx's own send


def request_summary(request: httpx.Request) -> dict[str, Any]:
    return {
        "method": request.method,
        "url": str(request.url),
        "headers": request.headers.raw,
        "encoding": request.headers.encoding,
        "extensions": request.extensions,
        "content": request.content,
        "stream": (type(request.stream), b"".join(request.stream)),  # type: ignore[arg-type]
        "attributes": sorted(vars(request)),
    }


@pytest.mark.parametrize(
    ("client_kwargs", "call"),
    [
        ({}, {"method": "get", "url": "/v2/profiles"}),
        ({}, {"method": "GET", "url": "/v2/profiles", "headers": {}}),
        (
            {},
            {
                "method": "delete",
                "url": "/v1/x",
                "headers": {"X-External-Correlation-Id": "a", "accept": "b"},
            },
        ),
        ({}, {"method": "get", "url": "/v1/x", "headers": {"HOST": "other.example", "X-A": "1"}}),
        ({}, {"method": "get", "url": "/v1/x", "headers": [("X-A", "1"), ("X-A", "2")]}),
        ({}, {"method": "get", "url": "https://other.example:8443/v1/x", "timeout": 3.0}),
        ({}, {"method": "get", "url": "/v1/x", "extensions": {"timeout": {"read": 1.0}, "wise": 1}}),
        ({}, {"method": "get", "url": "/v1/x", "params": {"a": "1"}}),
        ({}, {"method": "post", "url": "/v1/x"}),
        ({}, {"method": "post", "url": "/v1/x", "json": {"a": 1}}),
        ({}, {"method": "put", "url": "/v1/x", "content": b"abc"}),
        ({"headers": {"Host": "proxy.example", "X-Client": b"\xe9"}}, {"method": "get", "url": "/v1/x"}),
        ({"params": {"q": "1"}}, {"method": "get", "url": "/v1/x"}),
        ({"cookies": {"c": "1"}}, {"method": "get", "url": "/v1/x"}),
    ],
)
def test_build_request_gives_what_httpx_builds(client_kwargs: dict[str, Any], call: dict[str, Any]) -> None:
    owned, stock = clients(**client_kwargs)
    for _ in range(2):  # the second time from the merged headers kept for the client's headers and host
        assert request_summary(owned.build_request(**call)) == request_summary(stock.build_request(**call))


def test_build_request_follows_the_client_headers_when_they_change() -> None:
    owned, stock = clients()
    for client in (owned, stock):
        client.build_request("GET", "/v1/x")
        client.headers["X-Later"] = "1"
    assert request_summary(owned.build_request("GET", "/v1/x")) == request_summary(
        stock.build_request("GET", "/v1/x")
    )
    for client in (owned, stock):
        client.headers["X-Later"] = "2"  # a value changed in place
    assert request_summary(owned.build_request("GET", "/v1/x")) == request_summary(
        stock.build_request("GET", "/v1/x")
    )
    for client in (owned, stock):
        client.base_url = httpx.URL("https://moved.example")
    assert request_summary(owned.build_request("GET", "/v1/x")) == request_summary(
        stock.build_request("GET", "/v1/x")
    )


def test_the_cookie_check_gives_what_bool_of_the_cookies_gives() -> None:
    from wise_async._http_client import _any_cookie

    cookies = httpx.Cookies()
    states = [(_any_cookie(cookies), bool(cookies))]
    cookies.set("c", "1", domain="api.example", path="/")
    states.append((_any_cookie(cookies), bool(cookies)))
    cookies.jar.clear("api.example", "/", "c")  # leaves the domain's and path's (empty) dicts behind
    states.append((_any_cookie(cookies), bool(cookies)))
    assert states == [(False, False), (True, True), (False, False)]


def test_request_is_a_coroutine_function_whose_errors_come_when_awaited_as_httpx() -> None:
    owned, stock = clients()
    assert inspect.iscoroutinefunction(owned.request) and inspect.iscoroutinefunction(stock.request)
    for client in (owned, stock):
        call = client.request("GET", "/" + "x" * 70_000)  # nothing raised until awaited
        call.close()


@pytest.mark.parametrize("built", ["_prepared_send", "request"])
async def test_a_request_that_cannot_be_built_fails_when_awaited(built: str) -> None:
    owned, _ = clients()
    kwargs = {"method": "get", "url": "/" + "x" * 70_000}
    call = owned._prepared_send(kwargs) if built == "_prepared_send" else owned.request(**kwargs)
    with pytest.raises(httpx.InvalidURL):
        await call


def test_headers_added_after_the_client_headers_are_encoded_as_httpx_does() -> None:
    owned, stock = clients()
    seen = []
    for client in (owned, stock):
        for _ in range(2):  # the second time from the kept headers
            with_bytes = client.build_request("GET", "/v1/x", headers={"X-Name": "Jos\u00e9".encode()})
            set_later = client.build_request("GET", "/v1/x")
            set_later.headers["X-Note"] = "Jos\u00e9"  # httpx encodes a str set later as UTF-8
            seen.append((with_bytes.headers.encoding, with_bytes.headers.raw, set_later.headers.raw))
    assert seen[0] == seen[1] == seen[2] == seen[3]
    assert seen[0][0] == "utf-8"
