"""In-process, stateful fake of the Wise Platform API, for tests of wise-async and of applications.

Serve it to httpx with ``FakeWise.transport()``, as ASGI with ``FakeWise.asgi_app``, on a loopback socket
with ``serve_asgi(fake.asgi_app)`` or ``python -m wise_async.testing serve``; drive time with
``FakeWise.clock``; inject failures with ``FakeWise.faults``; inspect ``FakeWise.requests``. Its business
rules (one table, ``python -m wise_async.testing rules``) and the sandbox's transfer lifecycle are Wise's;
each status change sends ``transfers#state-change`` to the subscriptions made through the API.
"""

from __future__ import annotations

from ._clock import FakeClock
from ._fake import FakeWise, FakeWiseTransport
from ._fake_jose import FakeCard, FakeCardOrder, FakeJose, RegisteredClientKey
from ._faults import Fault, FaultKind, Faults
from ._http import FakeRequest, FakeResponse, RecordedRequest, Rejection
from ._jose_hook import JoseHook
from ._server import ServedApp, serve_asgi
from ._store import BalanceMovement
from ._webhooks import FakeWebhooks, OutgoingWebhook, WebhookDelivery

__all__ = [
    "BalanceMovement",
    "FakeCard",
    "FakeCardOrder",
    "FakeClock",
    "FakeJose",
    "FakeRequest",
    "FakeResponse",
    "FakeWebhooks",
    "FakeWise",
    "FakeWiseTransport",
    "Fault",
    "FaultKind",
    "Faults",
    "JoseHook",
    "OutgoingWebhook",
    "RecordedRequest",
    "RegisteredClientKey",
    "Rejection",
    "ServedApp",
    "WebhookDelivery",
    "serve_asgi",
]
