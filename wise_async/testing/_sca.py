"""Strong customer authentication: one-time tokens (OTTs), their challenges, and the 403 gate.

A protected request without approval gets 403 + ``x-2fa-approval: <ott>``. It passes when retried
with that OTT and either a valid ``X-Signature`` (personal-token path) or an OTT whose required
challenges were all cleared through the verify endpoints (partner path). OTTs are single use, and
repeated failures block new OTTs for a while, as Wise does.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ._http import FakeResponse, Rejection, empty_response, errors_response, spring_error
from ._routing import Call

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = [
    "OTP_CHANNELS",
    "Challenge",
    "OneTimeToken",
    "load_rsa_public_key",
    "sca_gate",
    "verify_signature",
]

OTP_CHANNELS = ("SMS", "WHATSAPP", "VOICE")

ACTION_TYPES = {
    "transferFund": "TRANSFER__FUND",
    "balanceStatementGet": "BALANCE__GET_STATEMENT",
}


@dataclass
class Challenge:
    type: str
    alternatives: tuple[str, ...] = ()
    required: bool = True
    passed: bool = False

    def accepts(self, challenge_type: str) -> bool:
        return challenge_type == self.type or challenge_type in self.alternatives


@dataclass
class OneTimeToken:
    """An OTT is bound to the user and to the exact request (method + path) it approves."""

    token: str
    user_id: int | None
    operation_id: str
    method: str
    path: str
    created_at: float
    expires_at: float
    challenges: list[Challenge]
    used: bool = False
    triggered: set[str] = field(default_factory=set)

    @property
    def cleared(self) -> bool:
        return all(c.passed for c in self.challenges if c.required)

    def challenge_for(self, challenge_type: str) -> Challenge | None:
        return next((c for c in self.challenges if c.accepts(challenge_type)), None)


def make_challenges(types: list[str]) -> list[Challenge]:
    """OTP challenges may be answered on any OTP channel, so each lists the others as alternatives."""
    challenges = []
    for challenge_type in types:
        upper = challenge_type.upper()
        alternatives = tuple(c for c in OTP_CHANNELS if c != upper) if upper in OTP_CHANNELS else ()
        challenges.append(Challenge(upper, alternatives))
    return challenges


def view_data(fake: FakeWise, ott: OneTimeToken, challenge_type: str) -> dict[str, Any]:
    if challenge_type in OTP_CHANNELS:
        return {"attributes": {"obfuscatedPhoneNo": fake._obfuscated_phone(ott.user_id)}}
    return {"attributes": {"userId": ott.user_id}}


def ott_properties(fake: FakeWise, ott: OneTimeToken) -> dict[str, Any]:
    """The ``oneTimeTokenProperties`` object of the OTT status and OTP verify responses."""
    properties: dict[str, Any] = {
        "oneTimeToken": ott.token,
        "challenges": [
            {
                "primaryChallenge": {"type": c.type, "viewData": view_data(fake, ott, c.type)},
                "alternatives": [{"type": a, "viewData": view_data(fake, ott, a)} for a in c.alternatives],
                "required": c.required,
                "passed": c.passed,
            }
            for c in ott.challenges
        ],
        "validity": max(0, int(ott.expires_at - fake.clock.now())),
        "actionType": ACTION_TYPES.get(ott.operation_id, "API__" + ott.operation_id.upper()),
    }
    if ott.user_id is not None:
        properties["userId"] = ott.user_id
    return properties


def load_rsa_public_key(pem: str | bytes) -> rsa.RSAPublicKey:
    data = pem.encode() if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("SCA signing keys must be RSA public keys")
    return key


def verify_signature(keys: list[rsa.RSAPublicKey], ott: str, signature_b64: str) -> bool:
    """RSASSA-PKCS1-v1_5 + SHA-256 over the OTT's UTF-8 bytes, standard base64, any registered key."""
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    for key in keys:
        try:
            key.verify(signature, ott.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            continue
        return True
    return False


def blocked(fake: FakeWise, user_id: int | None) -> bool:
    until = fake._sca_blocked_until.get(user_id)
    return until is not None and fake.clock.now() < until


def record_failure(fake: FakeWise, user_id: int | None) -> None:
    """Count a failed attempt; the ``sca_max_failures``-th one blocks new OTTs for a while."""
    fake.counters["sca_failures"] += 1
    count = fake._sca_failures.get(user_id, 0) + 1
    fake._sca_failures[user_id] = count
    if count >= fake.sca_max_failures:
        fake._sca_blocked_until[user_id] = fake.clock.now() + fake.sca_block_seconds
        fake._sca_failures[user_id] = 0


def _reject(fake: FakeWise, call: Call) -> Rejection:
    """403 with a fresh OTT (none while blocked); the body is Spring JSON or empty, per the knob."""
    request = call.request
    user_id = call.principal.user_id if call.principal else None
    headers = {"x-2fa-approval-result": "REJECTED"}
    if blocked(fake, user_id):
        fake.counters["sca_blocked"] += 1
        return Rejection(
            _with_headers(
                errors_response(403, "sca.blocked", "Too many failed attempts, try again later."), headers
            )
        )
    now = fake.clock.now()
    ott = OneTimeToken(
        token=fake._new_secret(),
        user_id=user_id,
        operation_id=call.route.operation_id,
        method=request.method,
        path=request.path,
        created_at=now,
        expires_at=now + fake.ott_validity,
        challenges=make_challenges(fake.sca_challenges),
    )
    fake._otts[ott.token] = ott
    fake.counters["sca_challenged"] += 1
    headers["x-2fa-approval"] = ott.token
    if fake.sca_response_body == "empty":
        response = empty_response(403)
    else:
        response = spring_error(now, 403, request.path, "You are forbidden to send this request")
    return Rejection(_with_headers(response, headers))


def _with_headers(response: FakeResponse, headers: dict[str, str]) -> FakeResponse:
    response.headers.update(headers)
    return response


def sca_gate(fake: FakeWise, call: Call) -> dict[str, str]:
    """Let the request through (returning headers for the success response) or raise a 403 challenge."""
    request = call.request
    presented = request.headers.get("x-2fa-approval")
    if not presented:
        raise _reject(fake, call)
    user_id = call.principal.user_id if call.principal else None
    ott = fake._otts.get(presented)
    usable = (
        ott is not None
        and not ott.used
        and fake.clock.now() < ott.expires_at
        and ott.user_id == user_id
        and (ott.method, ott.path) == (request.method, request.path)
    )
    if ott is None or not usable or blocked(fake, user_id):
        raise _reject(fake, call)
    signature = request.headers.get("x-signature")
    if signature is not None:
        ott.used = True  # a signed attempt burns the OTT whatever the outcome
        if not fake.sca_signature_allowed or not verify_signature(fake._sca_keys, ott.token, signature):
            record_failure(fake, user_id)
            raise _reject(fake, call)
    elif not ott.cleared:
        raise _reject(fake, call)
    ott.used = True
    fake._sca_failures[user_id] = 0
    fake.counters["sca_approved"] += 1
    return {"x-2fa-approval-result": "APPROVED"}
