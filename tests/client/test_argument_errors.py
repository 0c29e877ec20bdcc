"""Every mistake in a call's arguments or a client's configuration is a ``WiseError`` raised before anything
is sent: ``InvalidRequestError`` for a call, ``ConfigurationError`` for a client (both ``ValueError``s)."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from wise_async import ConfigurationError, InvalidRequestError, WiseClient, WiseError
from wise_async.testing import FakeWise

from .helpers import new_fake, personal_client

START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
Call = Callable[[WiseClient], Awaitable[Any]]


@pytest.fixture
def fake() -> FakeWise:
    return new_fake()


BAD_CALLS: dict[str, Call] = {
    "statement end at datetime.max": lambda w: w.statements.get(
        1, 2, currency="EUR", start=START, end=datetime.datetime.max
    ),
    "statement start at datetime.min with an offset": lambda w: w.statements.get(
        1,
        2,
        currency="EUR",
        start=datetime.datetime.min.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=5))),
        end=START,
    ),
    "unknown statement format": lambda w: w.statements.get(
        1,
        2,
        currency="EUR",
        start=START,
        end=START,
        format="docx",  # type: ignore[call-overload]
    ),
    "statement end before start": lambda w: w.statements.get(
        1, 2, currency="EUR", start=START, end=START - datetime.timedelta(days=1)
    ),
    "statement download over two windows": lambda w: w.statements.download(
        1, 2, currency="EUR", start=START, end=START + datetime.timedelta(days=900), to="/tmp/never"
    ),
    "card token with a newline": lambda w: w.card_secrets.get_details("tok\nen"),
    "card token with a non-ASCII character": lambda w: w.card_secrets.get_pin("tok\u00e9n"),
    "preset pin with a letter": lambda w: w.card_secrets.preset_pin(7, "12a4"),
    "preset pin too short": lambda w: w.card_secrets.preset_pin(7, "123"),
    "relay key version as text": lambda w: w.card_secrets.relay(
        "details",
        "tok",
        encrypted_payload="a.b.c.d.e",
        key_version="1",  # type: ignore[arg-type]
    ),
    "paginate with an unknown filter": lambda w: w.paginate("recipientList", currencyy="EUR").to_list(),
    "paginate with a missing path parameter": lambda w: w.paginate("activityList").to_list(),
    "paginate a non-paged operation": lambda w: w.paginate("transferGet", 1).to_list(),
    "paginate with max_items=-1": lambda w: w.paginate("recipientList", max_items=-1).to_list(),
    "extra header with CR/LF": lambda w: w.profiles.list(extra_headers={"X-Debug": "1\r\nX-Evil: 1"}),
    "extra header with non-ASCII": lambda w: w.profiles.list(extra_headers={"X-Debug": "caf\u00e9"}),
    "extra header with a bad name": lambda w: w.profiles.list(extra_headers={"X Debug": "1"}),
    "max_retries=-1": lambda w: w.profiles.list(max_retries=-1),
    "a path argument too long for a URL": lambda w: w.webhooks.application_subscription_list("k" * 70_000),
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
async def test_a_bad_argument_is_an_invalid_request_error_and_nothing_is_sent(
    fake: FakeWise, name: str
) -> None:
    async with personal_client(fake) as wise:
        with pytest.raises(InvalidRequestError) as raised:
            await BAD_CALLS[name](wise)
    assert isinstance(raised.value, ValueError)
    assert fake.requests == []
    assert "\n" not in str(raised.value) and "\r" not in str(raised.value)


async def test_a_closed_client_says_so_before_it_looks_at_the_arguments(fake: FakeWise) -> None:
    from wise_async import ClientClosedError

    wise = personal_client(fake)
    await wise.aclose()
    with pytest.raises(ClientClosedError):
        await wise.webhooks.application_subscription_list("k" * 70_000)


BAD_CLIENTS: dict[str, dict[str, Any]] = {
    "an unknown environment": {"environment": "prod"},
    "http:// to a public host": {"base_url": "http://api.wise.com"},
    "a base URL that is not http(s)": {"base_url": "ftp://127.0.0.1"},
    "a base URL without a host": {"base_url": "https://"},
    "environment and base_url that disagree": {"environment": "production", "base_url": "http://127.0.0.1:9"},
    "sandbox and production's base URL": {"environment": "sandbox", "base_url": "https://api.wise.com"},
    "an api_version that is not a quarter": {"api_version": "v4"},
    "a default header with CR/LF": {"default_headers": {"X-Gateway-Key": "k\r\nX-Evil: 1"}},
    "a token store without user_key": {"access_token": "a", "refresh_token": "r", "token_store": object()},
    "cert= with transport=": {"cert": "/tmp/c.pem", "transport": object()},
}


@pytest.mark.parametrize("name", sorted(BAD_CLIENTS))
def test_a_client_that_cannot_work_is_refused_with_a_configuration_error(name: str) -> None:
    kwargs = {"personal_token": "personal-token", **BAD_CLIENTS[name]}
    with pytest.raises(ConfigurationError) as raised:
        WiseClient(**kwargs)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, WiseError)


def test_environment_and_its_own_base_url_agree() -> None:
    client = WiseClient(personal_token="t", environment="production", base_url="https://api.wise.com/")
    assert client.environment.name == "production"
    assert WiseClient(personal_token="t", base_url="http://127.0.0.1:9").environment.name == "custom"


def test_environment_variables_that_disagree_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WISE_ENVIRONMENT", "production")
    monkeypatch.setenv("WISE_BASE_URL", "http://127.0.0.1:9")
    with pytest.raises(ConfigurationError, match="production"):
        WiseClient(personal_token="t")
    monkeypatch.setenv("WISE_ENVIRONMENT", "staging")
    with pytest.raises(ConfigurationError, match="WISE_ENVIRONMENT"):
        WiseClient(personal_token="t")
