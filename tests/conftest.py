"""Suite-wide fixtures: the wire a FakeWise is reached over.

Suites whose client fixture takes ``fake_transport`` run twice: once through FakeWise's in-process
transport (fast, byte-exact) and once over a real loopback socket to FakeWise served by uvicorn
(streamed bodies, real connections), so a difference between the two cannot hide.

Suites that take ``http_backend`` (loopback, faults, properties over sockets, fleets) run once per
connection pool a ``WiseClient`` can build for itself on asyncio: aiohttp's (the default) and httpcore's.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from loopback.servers import LoopbackTransport, serve_in_thread

from wise_async.testing import FakeWise


@pytest.fixture(params=["aiohttp", "httpcore"])
def http_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The pool of every ``WiseClient`` the test builds without ``transport=`` (``WISE_HTTP_BACKEND``,
    which worker processes inherit)."""
    monkeypatch.setenv("WISE_HTTP_BACKEND", str(request.param))
    return str(request.param)


@pytest.fixture(params=["in-process", "loopback"])
def wire(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake_transport(fake: FakeWise, wire: str) -> Iterator[httpx.AsyncBaseTransport]:
    if wire == "in-process":
        yield fake.transport()
        return
    with serve_in_thread(fake.asgi_app) as url:
        yield LoopbackTransport(url)
