"""Token providers end to end: personal token, OAuth user tokens (refresh), client credentials, grants."""

from __future__ import annotations

import base64
import urllib.parse
from decimal import Decimal
from typing import Literal

import anyio
import pytest
from bundle_paths import path_of
from wise_api.models import QuoteCreateUnauthenticatedBody

from wise_async import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    MissingCredentialsError,
    OAuthTokens,
    WiseClient,
)
from wise_async.testing import FakeWise

from .helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    bearer_of,
    new_fake,
    personal_client,
    send_ignoring_answer,
    user_client,
)

TWELVE_HOURS = 12 * 3600
BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


@pytest.fixture
def fake() -> FakeWise:
    return new_fake()


def statuses(fake: FakeWise) -> list[tuple[str | None, int | None]]:
    return [(r.operation_id, r.status) for r in fake.requests]


# --------------------------------------------------------------------------- personal token


async def test_personal_token_is_static(fake: FakeWise) -> None:
    token = fake.add_personal_token()
    async with WiseClient(personal_token=token, transport=fake.transport(), clock=fake.clock.now) as wise:
        await wise.profiles.list()
        fake.clock.advance(30 * 86400)  # personal tokens do not expire
        await wise.profiles.list()
        assert wise.user_tokens is None
    assert [bearer_of(r) for r in fake.requests] == [token, token]
    assert fake.counters["oauth_token"] == 0


async def test_rejected_personal_token_is_not_retried(fake: FakeWise) -> None:
    token = fake.add_personal_token()
    fake.revoke_token(token)
    async with WiseClient(personal_token=token, transport=fake.transport()) as wise:
        with pytest.raises(AuthenticationError) as caught:
            await wise.profiles.list()
    assert caught.value.status_code == 401
    assert caught.value.errors[0].code == "invalid_token"
    assert statuses(fake) == [("profileList", 401)]


# --------------------------------------------------------------------------- OAuth user token


async def test_proactive_refresh_before_expiry_with_skew(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        first = wise.user_tokens
        assert first is not None and first.expires_at == fake.clock.now() + TWELVE_HOURS
        fake.clock.advance(TWELVE_HOURS - 120)  # 2 min left: outside the 60 s skew
        await wise.profiles.list()
        assert fake.counters["refresh"] == 0
        fake.clock.advance(90)  # 30 s left: inside the skew, still valid at Wise
        await wise.profiles.list()
        second = wise.user_tokens
    assert fake.counters["refresh"] == 1
    assert second is not None and second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token  # FakeWise rotates the pair
    assert second.expires_at == fake.clock.now() + TWELVE_HOURS
    # refreshed *before* the call: Wise never saw the old token rejected
    assert statuses(fake) == [("profileList", 200), ("oauthTokenCreate", 200), ("profileList", 200)]
    assert bearer_of(fake.requests[0]) == first.access_token
    assert bearer_of(fake.requests[2]) == second.access_token


@pytest.mark.parametrize("style", ["invalid_token", "unauthorized"])
async def test_401_refreshes_once_and_replays_once(
    fake: FakeWise, style: Literal["invalid_token", "unauthorized"]
) -> None:
    fake.auth_error_style = style
    async with user_client(fake, know_expiry=False) as wise:
        old = wise.user_tokens
        fake.clock.advance(TWELVE_HOURS + 1)  # expired at Wise; the client cannot know
        profiles = await wise.profiles.list()
        new = wise.user_tokens
    assert len(profiles) == 2
    assert statuses(fake) == [("profileList", 401), ("oauthTokenCreate", 200), ("profileList", 200)]
    assert old is not None and new is not None
    assert bearer_of(fake.requests[0]) == old.access_token
    assert bearer_of(fake.requests[2]) == new.access_token
    # the replay is the same request: same correlation id
    assert (
        fake.requests[0].headers["x-external-correlation-id"]
        == fake.requests[2].headers["x-external-correlation-id"]
    )
    form = urllib.parse.parse_qs(fake.requests[1].body.decode())
    assert form == {"grant_type": ["refresh_token"], "refresh_token": [old.refresh_token]}


async def test_second_401_after_refresh_is_raised_not_looped(fake: FakeWise) -> None:
    body = b'{"error":"invalid_token","error_description":"Access token expired"}'
    fault = fake.faults.add("status", status=401, operation="profileList", body=body, times=None)
    async with user_client(fake) as wise:
        with pytest.raises(AuthenticationError) as caught:
            await wise.profiles.list()
    assert fault.fired == 2
    assert statuses(fake) == [("profileList", 401), ("oauthTokenCreate", 200), ("profileList", 401)]
    assert fake.counters["refresh"] == 1
    assert caught.value.errors[0].code == "invalid_token"


async def test_401_without_refresh_capability_is_raised(fake: FakeWise) -> None:
    # an access token without a refresh token behaves like a personal token
    issued = fake.issue_user_token(client_id=CLIENT_ID)
    fake.clock.advance(TWELVE_HOURS + 1)
    async with WiseClient(
        access_token=issued["access_token"], transport=fake.transport(), clock=fake.clock.now
    ) as wise:
        with pytest.raises(AuthenticationError):
            await wise.profiles.list()
    assert statuses(fake) == [("profileList", 401)]


async def test_50_concurrent_calls_on_an_expired_token_refresh_once(fake: FakeWise) -> None:
    results: list[int] = []
    async with user_client(fake) as wise:
        fake.clock.advance(TWELVE_HOURS + 1)

        async def call() -> None:
            results.append(len(await wise.profiles.list()))

        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(call)
        current = wise.user_tokens
    assert results == [2] * 50
    assert fake.counters["refresh"] == 1
    profile_calls = fake.calls("profileList")
    assert len(profile_calls) == 50 and {r.status for r in profile_calls} == {200}
    assert current is not None and {bearer_of(r) for r in profile_calls} == {current.access_token}


async def test_50_concurrent_401s_refresh_once(fake: FakeWise) -> None:
    results: list[int] = []
    async with user_client(fake, know_expiry=False) as wise:
        fake.clock.advance(TWELVE_HOURS + 1)

        async def call() -> None:
            results.append(len(await wise.profiles.list()))

        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(call)
    assert results == [2] * 50
    assert fake.counters["refresh"] == 1
    profile_calls = fake.calls("profileList")
    assert sorted(r.status or 0 for r in profile_calls) == [200] * 50 + [401] * 50


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_on_token_refresh_hook_receives_the_new_pair(fake: FakeWise, kind: str) -> None:
    received: list[OAuthTokens] = []

    def sync_hook(tokens: OAuthTokens) -> None:
        received.append(tokens)

    async def async_hook(tokens: OAuthTokens) -> None:
        await anyio.lowlevel.checkpoint()
        received.append(tokens)

    hook = sync_hook if kind == "sync" else async_hook
    async with user_client(fake, on_token_refresh=hook) as wise:
        await wise.profiles.list()
        assert received == []
        fake.clock.advance(TWELVE_HOURS)
        await wise.profiles.list()
        fake.clock.advance(TWELVE_HOURS)
        await wise.profiles.list()
        assert received[-1] == wise.user_tokens
    assert fake.counters["refresh"] == 2
    assert len(received) == 2
    used = [bearer_of(r) for r in fake.calls("profileList")]
    assert [t.access_token for t in received] == used[1:]
    # what the hook persisted is what the next refresh used
    second_refresh = fake.calls("oauthTokenCreate")[1]
    assert urllib.parse.parse_qs(second_refresh.body.decode())["refresh_token"] == [received[0].refresh_token]


# --------------------------------------------------------------------------- client credentials


async def test_client_credentials_used_for_cc_only_operations(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        user = wise.user_tokens
        assert user is not None
        await wise.user_security.pin_delete(fake.user_id)
        await wise.profiles.list()
        fake.set_pin("1234")
        await wise.user_security.pin_delete(fake.user_id)  # cached CC token reused
        assert fake.counters["grant:client_credentials"] == 1

        fake.clock.advance(TWELVE_HOURS + 1)  # both tokens expired
        fake.set_pin("1234")
        await wise.user_security.pin_delete(fake.user_id)
        await wise.profiles.list()
    assert fake.counters["grant:client_credentials"] == 2
    assert fake.counters["refresh"] == 1
    pin_calls = fake.calls("userSecurityPinDelete")
    assert [r.status for r in pin_calls] == [204, 204, 204]
    cc_tokens = [bearer_of(r) for r in pin_calls]
    assert cc_tokens[0] == cc_tokens[1] != cc_tokens[2]
    # FakeWise answers 403 to a user token on a CC-only route and to a CC token on a user route
    profile_calls = fake.calls("profileList")
    assert [r.status for r in profile_calls] == [200, 200]
    profile_tokens = [bearer_of(r) for r in profile_calls]
    assert profile_tokens[0] == user.access_token
    assert not set(cc_tokens) & set(profile_tokens)
    grants = [urllib.parse.parse_qs(r.body.decode())["grant_type"][0] for r in fake.calls("oauthTokenCreate")]
    assert grants == ["client_credentials", "client_credentials", "refresh_token"]


async def test_client_credentials_only_client(fake: FakeWise) -> None:
    async with WiseClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, transport=fake.transport(), clock=fake.clock.now
    ) as wise:
        await wise.user_security.pin_delete(fake.user_id)
    assert statuses(fake) == [("oauthTokenCreate", 200), ("userSecurityPinDelete", 204)]
    assert fake.counters["grant:client_credentials"] == 1


async def test_basic_auth_on_oauth_token(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        fake.clock.advance(TWELVE_HOURS)
        await wise.profiles.list()
        await wise.user_security.pin_delete(fake.user_id)
    token_calls = fake.calls("oauthTokenCreate")
    assert len(token_calls) == 2
    for record in token_calls:
        assert record.status == 200
        assert record.headers["authorization"] == BASIC
        assert record.headers["content-type"] == "application/x-www-form-urlencoded"


async def test_refresh_without_client_secret_is_a_clear_error(fake: FakeWise) -> None:
    issued = fake.issue_user_token(client_id=CLIENT_ID)
    async with WiseClient(
        access_token=issued["access_token"],
        refresh_token=issued["refresh_token"],
        expires_at=fake.clock.now() + 10,
        transport=fake.transport(),
        clock=fake.clock.now,
    ) as wise:
        with pytest.raises(MissingCredentialsError, match="client_id and client_secret"):
            await wise.profiles.list()
    assert fake.requests == []


# --------------------------------------------------------------------------- grants


async def test_exchange_authorization_code(fake: FakeWise) -> None:
    fake.add_authorization_code("code-123", redirect_uri="https://app.example.com/cb", client_id=CLIENT_ID)
    async with WiseClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, transport=fake.transport(), clock=fake.clock.now
    ) as wise:
        issued_at = fake.clock.now()
        tokens = await wise.exchange_authorization_code("code-123", "https://app.example.com/cb")
        assert wise.user_tokens == tokens
        await wise.profiles.list()
        fake.clock.advance(TWELVE_HOURS)
        await wise.profiles.list()  # the adopted pair is refreshable
    assert tokens.refresh_token is not None
    assert tokens.expires_at == issued_at + TWELVE_HOURS
    assert tokens.scope == "transfers"
    token_call = fake.calls("oauthTokenCreate")[0]
    assert token_call.headers["authorization"] == BASIC
    assert urllib.parse.parse_qs(token_call.body.decode()) == {
        "grant_type": ["authorization_code"],
        "client_id": [CLIENT_ID],
        "code": ["code-123"],
        "redirect_uri": ["https://app.example.com/cb"],
    }
    first, second = fake.calls("profileList")
    assert bearer_of(first) == tokens.access_token
    assert bearer_of(second) != tokens.access_token
    assert fake.counters["refresh"] == 1


async def test_exchange_registration_code(fake: FakeWise) -> None:
    fake.add_registration_code("ada@example.com", "reg-456", client_id=CLIENT_ID)
    async with WiseClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, transport=fake.transport(), clock=fake.clock.now
    ) as wise:
        tokens = await wise.exchange_registration_code("ada@example.com", "reg-456")
        profiles = await wise.profiles.list()
    assert len(profiles) == 2
    assert bearer_of(fake.calls("profileList")[0]) == tokens.access_token
    form = urllib.parse.parse_qs(fake.calls("oauthTokenCreate")[0].body.decode())
    assert form["grant_type"] == ["registration_code"]
    assert form["email"] == ["ada@example.com"]
    assert form["registration_code"] == ["reg-456"]


async def test_exchange_without_adopting(fake: FakeWise) -> None:
    fake.add_authorization_code("code-1", redirect_uri="https://app/cb")
    async with personal_client(fake, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as wise:
        tokens = await wise.exchange_authorization_code("code-1", "https://app/cb", use=False)
        await wise.profiles.list()
        assert wise.user_tokens is None
    assert bearer_of(fake.calls("profileList")[0]) != tokens.access_token


# --------------------------------------------------------------------------- which token goes where


async def test_operations_without_security_get_no_token(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        await send_ignoring_answer(
            wise.comparisons.get(source_currency="GBP", target_currency="EUR", send_amount=Decimal("100.0"))
        )
    (record,) = fake.requests
    assert record.path == path_of("comparisonGet")
    assert "authorization" not in record.headers
    assert fake.counters["oauth_token"] == 0


async def test_unauthenticated_quote_prefers_client_credentials(fake: FakeWise) -> None:
    body = QuoteCreateUnauthenticatedBody(
        source_currency="GBP", target_currency="EUR", source_amount=Decimal("10.0")
    )
    async with user_client(fake) as wise:
        user = wise.user_tokens
        quote = await wise.quotes.create_unauthenticated(body=body)
    assert quote.source_amount == 10.0
    record = fake.calls("quoteCreateUnauthenticated")[0]
    assert user is not None and bearer_of(record) != user.access_token
    assert fake.counters["grant:client_credentials"] == 1


async def test_unauthenticated_quote_without_any_credentials(fake: FakeWise) -> None:
    body = QuoteCreateUnauthenticatedBody(
        source_currency="GBP", target_currency="EUR", source_amount=Decimal("10.0")
    )
    async with WiseClient(transport=fake.transport()) as wise:
        await wise.quotes.create_unauthenticated(body=body)
    (record,) = fake.requests
    assert record.status == 200 and "authorization" not in record.headers


async def test_refresh_hook_survives_a_code_exchange(fake: FakeWise) -> None:
    received: list[OAuthTokens] = []
    fake.add_authorization_code("code-9", redirect_uri="https://app/cb")
    async with WiseClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        on_token_refresh=received.append,
        transport=fake.transport(),
        clock=fake.clock.now,
    ) as wise:
        await wise.exchange_authorization_code("code-9", "https://app/cb")
        fake.clock.advance(TWELVE_HOURS)
        await wise.profiles.list()
        current = wise.user_tokens
    assert fake.counters["refresh"] == 1
    assert received == [current]  # the app can persist the pair it must use from now on


async def test_50_concurrent_calls_with_a_revoked_refresh_token_ask_wise_once(fake: FakeWise) -> None:
    issued = fake.issue_user_token(client_id=CLIENT_ID)
    fake.revoke_token(issued["refresh_token"])
    fake.clock.advance(TWELVE_HOURS + 1)
    errors: list[APIStatusError] = []
    async with WiseClient(
        access_token=issued["access_token"],
        refresh_token=issued["refresh_token"],
        expires_at=fake.clock.now() - 1,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        transport=fake.transport(),
        clock=fake.clock.now,
    ) as wise:

        async def call() -> None:
            try:
                await wise.profiles.list()
            except APIStatusError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(call)
    assert len(errors) == 50 and all(
        400 <= e.status_code < 500 for e in errors if isinstance(e, APIStatusError)
    )
    assert len(fake.calls("oauthTokenCreate")) == 1  # one refused refresh, shared by every waiting task
    assert fake.calls("profileList") == []


async def test_a_code_exchange_that_cannot_connect_raises_api_connection_error(fake: FakeWise) -> None:
    fake.faults.reset_before_commit(method="POST", path="/oauth/token")
    fake.add_authorization_code("the-code", redirect_uri="https://app.example/callback", client_id=CLIENT_ID)
    async with WiseClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, transport=fake.transport()
    ) as wise:
        with pytest.raises(APIConnectionError):
            await wise.exchange_authorization_code("the-code", "https://app.example/callback")
    calls = fake.calls("oauthTokenCreate")  # a POST without an idempotency key is never sent twice
    assert [(c.fault, c.status) for c in calls] == [("reset_before_commit", None)]
