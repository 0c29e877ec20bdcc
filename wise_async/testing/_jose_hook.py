"""The seam where JOSE support plugs into the fake.

Wise wraps some bodies (PIN / device-fingerprint verify, playgrounds) in JWE or JWS. Until a JOSE
implementation is attached via ``FakeWise.jose``, those routes accept plain JSON, which keeps the
SCA flow testable independently of the crypto.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ._http import FakeRequest, FakeResponse, Rejection, errors_response

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["JoseHook", "is_jose", "read_secure_json", "secure_response"]

JOSE_CONTENT_TYPE = "application/jose+json"


@runtime_checkable
class JoseHook(Protocol):
    """What ``FakeWise.jose`` must provide: unwrap request bodies, wrap response bodies."""

    def decode_request(self, request: FakeRequest) -> bytes:
        """Plaintext of a JOSE request body; raise :class:`Rejection` to answer an error (Wise: 500)."""
        ...

    def encode_response(self, request: FakeRequest, response: FakeResponse) -> FakeResponse:
        """The response as the client asked for it (e.g. ``dir``/A256GCM with the request's CEK)."""
        ...


def is_jose(request: FakeRequest) -> bool:
    return request.content_type == JOSE_CONTENT_TYPE


def read_secure_json(fake: FakeWise, request: FakeRequest) -> dict[str, Any]:
    """The JSON object inside a possibly JOSE-wrapped body; plain JSON is accepted too."""
    raw = fake.jose.decode_request(request) if fake.jose is not None and is_jose(request) else request.body
    try:
        data = json.loads(raw)
    except ValueError:
        # Wise reports undecryptable bodies as a generic 500; plain-JSON mode cannot read a JWE either.
        raise Rejection(errors_response(500, "INTERNAL_ERROR", "Could not read the request body.")) from None
    if not isinstance(data, dict):
        raise Rejection(errors_response(400, "NOT_VALID", "Request body must be a JSON object."))
    return data


def secure_response(fake: FakeWise, request: FakeRequest, response: FakeResponse) -> FakeResponse:
    """Wrap the answer the way the request was wrapped (only when a JOSE hook is attached)."""
    if fake.jose is not None and is_jose(request) and response.body:
        return fake.jose.encode_response(request, response)
    return response
