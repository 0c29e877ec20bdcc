"""The httpx client a WiseClient creates for itself: over real sockets, no cookie jar filled by responses
and a new base URL honoured; in-process, URLs worked out once per path go where httpx would send them."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wise_async import WiseClient
from wise_async._http_client import OwnedHttpClient
from wise_async.testing import FakeWise

from .conftest import NO_WAIT, personal_client
from .servers import FaultProxy, answer

SET_COOKIE = [("content-type", "application/json"), ("set-cookie", "session=from-a-response; Path=/")]


async def test_a_response_cookie_is_not_sent_on_later_calls(fake: FakeWise, proxy: FaultProxy) -> None:
    proxy.add(answer(200, b"[]", SET_COOKIE), method="GET", path_prefix="/v2/profiles")
    async with personal_client(fake, proxy) as wise:
        assert await wise.profiles.list() == []
        await wise.profiles.list()
        assert len(wise.http_client.cookies) == 0
    first, second = (e for e in proxy.exchanges if e.path.startswith("/v2/profiles"))
    assert "cookie" not in first.headers and "cookie" not in second.headers
    assert second.headers["authorization"].startswith("Bearer ")


async def test_cookies_set_on_the_client_are_sent(fake: FakeWise, proxy: FaultProxy) -> None:
    async with personal_client(fake, proxy) as wise:
        wise.http_client.cookies.set("preference", "compact")
        await wise.profiles.list()
        wise.http_client.cookies = {"replaced": "yes"}
        await wise.profiles.list()
    first, second = (e for e in proxy.exchanges if e.path.startswith("/v2/profiles"))
    assert first.headers["cookie"] == "preference=compact"
    assert second.headers["cookie"] == "replaced=yes"


async def test_a_client_passed_in_keeps_its_own_cookie_jar(fake: FakeWise, proxy: FaultProxy) -> None:
    proxy.add(answer(200, b"[]", SET_COOKIE), method="GET", path_prefix="/v2/profiles")
    async with (
        httpx.AsyncClient(base_url=proxy.url) as own,
        WiseClient(personal_token=fake.add_personal_token(), http_client=own, retry_policy=NO_WAIT) as wise,
    ):
        await wise.profiles.list()
        await wise.profiles.list()
        assert own.cookies["session"] == "from-a-response"
    second = [e for e in proxy.exchanges if e.path.startswith("/v2/profiles")][1]
    assert second.headers["cookie"] == "session=from-a-response"


async def test_a_new_base_url_is_used_for_paths_already_seen(fake: FakeWise, proxy: FaultProxy) -> None:
    with FaultProxy(proxy.url) as second_proxy:
        async with personal_client(fake, proxy) as wise:
            await wise.profiles.list()
            wise.http_client.base_url = second_proxy.url
            await wise.profiles.list()
        assert proxy.count("GET", "/v2/profiles") == 2  # the second call went through second_proxy to it
        assert second_proxy.count("GET", "/v2/profiles") == 1


PATHS = st.one_of(
    st.text(max_size=40),
    st.builds(
        "".join,
        st.lists(
            st.sampled_from(
                ["/", "v1", "%2F", "%", "?", "#", "a b", "é", "..", ".", "=", "&", "~", "http://x"]
            )
        ),
    ),
)


def _clients(base: str) -> tuple[OwnedHttpClient, httpx.AsyncClient]:
    unused = httpx.MockTransport(lambda request: httpx.Response(500))  # only requests are built here
    return OwnedHttpClient(base_url=base, transport=unused), httpx.AsyncClient(
        base_url=base, transport=unused
    )


CLIENTS = {base: _clients(base) for base in ("https://api.wise.com", "http://127.0.0.1:9/v1/")}


@settings(max_examples=300, deadline=None)
@given(paths=st.lists(PATHS, min_size=1, max_size=6), base=st.sampled_from(sorted(CLIENTS)))
def test_every_path_goes_where_httpx_would_send_it(paths: list[str], base: str) -> None:
    owned, plain = CLIENTS[base]
    for path in paths + paths:  # the second time from the kept URL
        try:
            expected: object = plain.build_request("GET", path, params={"seekPosition": 7}).url
        except httpx.InvalidURL as error:
            expected = type(error)
        try:
            got: object = owned.build_request("GET", path, params={"seekPosition": 7}).url
        except httpx.InvalidURL as error:
            got = type(error)
        assert got == expected, path


def test_the_urls_kept_are_bounded() -> None:
    owned, _ = _clients("https://api.wise.com")
    for n in range(2000):
        assert (
            owned.build_request("GET", f"/v1/transfers/{n}").url == f"https://api.wise.com/v1/transfers/{n}"
        )
    assert 0 < len(owned._merged_urls) <= 512


@pytest.mark.parametrize("path", ["/v2/profiles", "v2/profiles", "https://elsewhere.example/v2/profiles"])
def test_relative_and_absolute_paths(path: str) -> None:
    owned, plain = _clients("https://api.wise.com/")
    expected = plain.build_request("GET", path).url
    assert owned.build_request("GET", path).url == expected
    assert owned.build_request("GET", path).url == expected
