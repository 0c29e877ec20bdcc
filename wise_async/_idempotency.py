"""Idempotency keys: minted once per logical call, before any retry, and reused on every attempt.

Wise has two mechanisms, both described by the operation table: the ``X-idempotence-uuid`` header
(required on some operations, optional on others) and body properties with the same meaning
(``customerTransactionId``, ``originalTransferId``). Either way, a request that carries a key may be
retried safely; one that does not is never sent twice.
"""

from __future__ import annotations

import os

import httpx

from ._operations import OperationSpec

IDEMPOTENCY_HEADER = "X-idempotence-uuid"
EXTENSION_KEY = "wise_idempotency_key"
REQUESTED_KEY_EXTENSION = "wise_requested_idempotency_key"
"""The caller's ``idempotency_key=`` option: used wherever the SDK would mint a key."""


_VARIANT_DIGIT = "89ab" * 4
"""RFC 4122's variant (``10xx``) over a random hex digit's low bits: ``_VARIANT_DIGIT[int(digit, 16)]``."""


def random_uuid_text() -> str:
    """A random (version 4) UUID as ``str(uuid.uuid4())`` writes it: idempotency keys, correlation ids.

    Built here because importing ``uuid`` would add ~15% to ``import wise_async`` (it loads ``platform``);
    written from the hex text (version digit ``4``, the variant's two bits set) rather than via an int.
    """
    text = os.urandom(16).hex()
    return (
        f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{_VARIANT_DIGIT[int(text[16], 16)]}{text[17:20]}-{text[20:]}"
    )


def idempotency_key_of(request: httpx.Request) -> str | None:
    """The key this request carries (set by :func:`apply_idempotency`, or by the caller's header)."""
    key = request.extensions.get(EXTENSION_KEY)
    if isinstance(key, str):
        return key
    header: str | None = request.headers.get(IDEMPOTENCY_HEADER)
    return header


def _with_json_body(request: httpx.Request, body: object) -> httpx.Request:
    headers = httpx.Headers(request.headers)
    from wise_api import wire

    content = wire.dumps(body)  # money stays exact: Decimal in, the same literal out
    headers.pop("content-length", None)
    return httpx.Request(
        request.method,
        request.url,
        headers=headers,
        content=content,
        extensions=dict(request.extensions),
    )


def apply_idempotency(
    request: httpx.Request, op: OperationSpec | None, *, optional_headers: bool = True
) -> httpx.Request:
    """Return the request with its idempotency key in place (a new request if the body changed).

    Keys the caller already set are kept: an app that stores its own key and retries later gets the
    same transfer back instead of a second one.
    """
    if op is None:
        key = request.headers.get(IDEMPOTENCY_HEADER) or request.extensions.get(REQUESTED_KEY_EXTENSION)
        if key:
            request.extensions[EXTENSION_KEY] = key
        return request
    requested = request.extensions.get(REQUESTED_KEY_EXTENSION)
    if op.idempotency_header is not None:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None and (requested or op.idempotency_header == "required" or optional_headers):
            key = requested or random_uuid_text()
            request.headers[IDEMPOTENCY_HEADER] = key
        if key is not None:
            request.extensions[EXTENSION_KEY] = key
        return request
    body_key = op.idempotency_body_key
    if body_key is None or "json" not in request.headers.get("content-type", ""):
        return request
    from wise_api import wire

    try:
        body = wire.loads(request.content or b"null")
    except ValueError:
        return request
    if not isinstance(body, dict):
        return request
    existing = body.get(body_key)
    if existing:
        request.extensions[EXTENSION_KEY] = str(existing)
        return request
    body[body_key] = requested or random_uuid_text()
    rebuilt = _with_json_body(request, body)
    rebuilt.extensions[EXTENSION_KEY] = body[body_key]
    return rebuilt
