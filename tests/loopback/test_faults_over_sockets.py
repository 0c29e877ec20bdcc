"""Socket-level faults between the client and FakeWise: what is retried, what is sent once, what is raised.

Each test counts the requests that reached the proxy (the wire) and what FakeWise committed (the money).
"""

from __future__ import annotations

import json
import socket
import tracemalloc
import uuid
from typing import Any

import httpx
import pytest
from bundle_paths import path_of
from client.helpers import quote_and_recipient
from wise_api.models import TransferCreateBody

from wise_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    InternalServerError,
    InvalidRequestError,
    ResponseTooLargeError,
    WiseClient,
)
from wise_async.testing import FakeWise

from .conftest import personal_client, quote_body
from .servers import (
    FaultProxy,
    answer,
    close_after_headers,
    close_before_headers,
    close_mid_body,
    gzip_bomb,
    stall,
)

TIMEOUT = httpx.Timeout(0.5)  # per phase: a stalled attempt fails fast and is retried
FAULTS = {
    "close before headers (processed)": lambda: close_before_headers(forward=True),
    "close after headers": close_after_headers,
    "close mid-body": close_mid_body,
    "stall past the timeout": lambda: stall(1.5),
}


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_keyed_transfer_whose_answer_is_lost_is_retried_and_made_once(
    fake: FakeWise, proxy: FaultProxy, fault: str
) -> None:
    async with personal_client(fake, proxy, timeout=TIMEOUT) as wise:
        quote_id, recipient_id = await quote_and_recipient(wise, fake)
        proxy.add(FAULTS[fault](), method="POST", path_prefix=path_of("transferCreate"))
        key = str(uuid.uuid4())
        body = TransferCreateBody.from_dict(
            {"targetAccount": recipient_id, "quoteUuid": str(quote_id), "customerTransactionId": key}
        )
        transfer = await wise.transfers.create(body=body)
    assert transfer.id in fake.transfers
    assert len(fake.transfers) == 1  # one transfer, though the server was asked twice
    sent = [e for e in proxy.exchanges if e.method == "POST" and e.path == path_of("transferCreate")]
    assert len(sent) == 2
    assert {json.loads(e.body)["customerTransactionId"] for e in sent} == {key}


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_get_whose_answer_is_lost_is_retried(fake: FakeWise, proxy: FaultProxy, fault: str) -> None:
    proxy.add(FAULTS[fault](), method="GET", path_prefix=path_of("profileList"))
    async with personal_client(fake, proxy, timeout=TIMEOUT) as wise:
        profiles = await wise.profiles.list()
    assert profiles
    assert proxy.count("GET", path_of("profileList")) == 2


@pytest.mark.parametrize("fault", [*FAULTS, "close before headers (not processed)", "503"])
async def test_a_post_without_a_key_reaches_the_server_once_under_every_fault(
    fake: FakeWise, proxy: FaultProxy, fault: str
) -> None:
    armed = (
        close_before_headers(forward=False)
        if fault == "close before headers (not processed)"
        else answer(503, b'{"error":"unavailable"}')
        if fault == "503"
        else FAULTS[fault]()
    )
    proxy.add(armed, method="POST", path_prefix=path_of("quoteCreate").split("{")[0], times=None)
    async with personal_client(fake, proxy, timeout=TIMEOUT) as wise:
        expected: type[Exception] = InternalServerError if fault == "503" else APIConnectionError
        with pytest.raises(expected) as caught:
            await wise.quotes.create(fake.personal_profile_id, body=quote_body())
    assert proxy.count("POST", path_of("quoteCreate", profileId=fake.personal_profile_id)) == 1
    if fault == "stall past the timeout":
        assert isinstance(caught.value, APITimeoutError)
        assert "timed out waiting for the response" in str(caught.value)


async def test_a_numeric_timeout_is_the_whole_calls_budget_across_retries(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    proxy.add(stall(5), method="GET", path_prefix=path_of("profileList"), times=None)
    async with personal_client(fake, proxy, max_retries=5) as wise:
        with pytest.raises(APITimeoutError, match="1s budget"):
            await wise.profiles.list(timeout=1.0)
    # each attempt's phases are capped by the budget: the first read outlives it, nothing is retried after
    assert proxy.count("GET", path_of("profileList")) == 1


async def test_a_rate_limited_post_is_retried_because_wise_did_not_process_it(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    proxy.add(
        answer(429, b"", [("retry-after", "0")]),
        method="POST",
        path_prefix=path_of("quoteCreate").split("{")[0],
    )
    async with personal_client(fake, proxy) as wise:
        quote = await wise.quotes.create(fake.personal_profile_id, body=quote_body())
    assert quote.id is not None
    assert proxy.count("POST", path_of("quoteCreate", profileId=fake.personal_profile_id)) == 2
    assert len(fake.calls("quoteCreate")) == 1


async def test_a_gateway_error_on_a_get_is_retried(fake: FakeWise, proxy: FaultProxy) -> None:
    proxy.add(answer(502, b"<html><title>502 Bad Gateway</title></html>", [("content-type", "text/html")]))
    async with personal_client(fake, proxy) as wise:
        assert await wise.profiles.list()
    assert proxy.count("GET", path_of("profileList")) == 2


async def test_a_gzip_bomb_stops_at_the_size_cap_without_inflating(fake: FakeWise, proxy: FaultProxy) -> None:
    proxy.add(gzip_bomb(64 * 1024 * 1024), method="GET")
    async with personal_client(fake, proxy, max_response_bytes=1024 * 1024) as wise:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError) as caught:
                await wise.profiles.list()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert caught.value.limit == 1024 * 1024
    assert peak < 16 * 1024 * 1024, f"peak {peak} bytes while refusing a 64 MiB body"
    assert proxy.count("GET", path_of("profileList")) == 1  # too large is not transient: not retried


async def test_a_corrupt_gzip_body_is_a_connection_error_not_an_httpx_one(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    bad = answer(200, b"\x1f\x8b\x08\x00garbage", [("content-encoding", "gzip")])
    proxy.add(bad, method="GET", times=None)
    async with personal_client(fake, proxy) as wise:
        with pytest.raises(APIConnectionError, match="could not be decoded"):
            await wise.profiles.list()
    assert proxy.count("GET", path_of("profileList")) == 3  # a GET is retried (2 retries)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (204, b"", APIResponseValidationError),
        (302, b"", APIStatusError),
        (299, b"", APIResponseValidationError),
        (200, b"[" * 100_000, APIResponseValidationError),
        (200, b"<html>proxy login</html>", APIResponseValidationError),
        (200, b'{"id": "not-a-number", "type": 7}', APIResponseValidationError),
        (200, b'{"id": null, "type": "PERSONAL"}', APIResponseValidationError),  # typed int, never None
    ],
)
async def test_an_answer_that_is_not_the_promised_result_is_a_typed_error(
    fake: FakeWise, proxy: FaultProxy, status: int, body: bytes, error: type[Exception]
) -> None:
    proxy.add(answer(status, body), method="GET", path_prefix=path_of("profileList") + "/")
    async with personal_client(fake, proxy) as wise:
        with pytest.raises(error) as caught:
            await wise.profiles.get(fake.personal_profile_id)
    assert type(caught.value) is error or isinstance(caught.value, error)


async def test_a_refused_connection_says_why_and_is_retried_as_nothing_was_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    async with WiseClient(personal_token="t" * 20, base_url=f"http://127.0.0.1:{port}") as wise:
        with pytest.raises(APIConnectionError) as caught:
            await wise.quotes.create(1, body=quote_body())
    assert "could not connect" in str(caught.value)
    assert "refused" in str(caught.value).lower()


@pytest.mark.parametrize("bad", [None, "", ".", "..", "a/b", "../v1/transfers"])
async def test_path_parameters_that_would_change_the_url_are_refused_before_sending(
    fake: FakeWise, proxy: FaultProxy, bad: Any
) -> None:
    async with personal_client(fake, proxy) as wise:
        with pytest.raises(InvalidRequestError, match="transfer_id"):
            await wise.transfers.cancel(bad)
    assert not proxy.exchanges


async def test_a_closed_client_raises_a_typed_error(fake: FakeWise, proxy: FaultProxy) -> None:
    wise = personal_client(fake, proxy)
    async with wise:
        await wise.profiles.list()
    with pytest.raises(ClientClosedError):
        await wise.profiles.list()
    with pytest.raises(ClientClosedError):
        await wise.http_client.get(path_of("profileList"))


def test_plain_http_to_a_remote_host_is_refused_unless_opted_in() -> None:
    with pytest.raises(ValueError, match="cleartext"):
        WiseClient(personal_token="t" * 20, base_url="http://api.wise.com")
    WiseClient(personal_token="t" * 20, base_url="http://gateway.internal", allow_insecure_http=True)
