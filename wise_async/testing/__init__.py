"""In-process, stateful fake of the Wise Platform API, for tests of wise-async and of applications.

Serve it to httpx with ``FakeWise.transport()`` or as ASGI with ``FakeWise.asgi_app``; drive time with
``FakeWise.clock``; inject failures with ``FakeWise.faults``; inspect ``FakeWise.requests``.
"""

from __future__ import annotations

from ._clock import FakeClock
from ._fake import FakeWise, FakeWiseTransport
from ._faults import Fault, FaultKind, Faults
from ._http import FakeRequest, FakeResponse, RecordedRequest, Rejection
from ._jose_hook import JoseHook
from ._store import BalanceMovement

__all__ = [
    "BalanceMovement",
    "FakeClock",
    "FakeRequest",
    "FakeResponse",
    "FakeWise",
    "FakeWiseTransport",
    "Fault",
    "FaultKind",
    "Faults",
    "JoseHook",
    "RecordedRequest",
    "Rejection",
]
