"""Suite-wide fixtures: the wire a FakeWise is reached over.

Suites whose client fixture takes ``fake_transport`` run twice: once through FakeWise's in-process
transport (fast, byte-exact) and once over a real loopback socket to FakeWise served by uvicorn
(streamed bodies, real connections), so a difference between the two cannot hide.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from loopback.servers import LoopbackTransport, serve_in_thread

from wise_async.testing import FakeWise


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
