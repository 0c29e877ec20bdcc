"""FakeWise under uvicorn with a fault-injecting proxy in front: the client reaches Wise over real TCP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from wise_api.models import QuoteCreateBody

from wise_async import RetryPolicy, WiseClient
from wise_async.testing import FakeWise

from .servers import FaultProxy, serve_in_thread

CLIENT_ID = "loopback-client"
CLIENT_SECRET = "loopback-secret-value"
NO_WAIT = RetryPolicy(max_retries=2, initial_delay=0.0, max_delay=0.0)


@pytest.fixture(autouse=True)
def _each_http_backend(http_backend: str) -> str:
    """Every test here runs on aiohttp's pool and on httpcore's."""
    return http_backend


@pytest.fixture
def fake() -> FakeWise:
    fake = FakeWise()
    fake.add_client(CLIENT_ID, CLIENT_SECRET)
    return fake


@pytest.fixture
def proxy(fake: FakeWise) -> Iterator[FaultProxy]:
    with serve_in_thread(fake.asgi_app) as url, FaultProxy(url) as proxy:
        yield proxy


def user_client(fake: FakeWise, proxy: FaultProxy, **kwargs: Any) -> WiseClient:
    issued = fake.issue_user_token(client_id=CLIENT_ID)
    kwargs.setdefault("retry_policy", NO_WAIT)
    kwargs.setdefault("base_url", proxy.url)
    return WiseClient(
        access_token=issued["access_token"],
        refresh_token=issued["refresh_token"],
        expires_at=fake.clock.now() + issued["expires_in"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        clock=fake.clock.now,
        **kwargs,
    )


def personal_client(fake: FakeWise, proxy: FaultProxy, **kwargs: Any) -> WiseClient:
    kwargs.setdefault("retry_policy", NO_WAIT)
    return WiseClient(personal_token=fake.add_personal_token(), base_url=proxy.url, **kwargs)


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def quote_body() -> QuoteCreateBody:
    return QuoteCreateBody.from_dict({"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": 100})
