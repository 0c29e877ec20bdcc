"""SCA over API: OTT status, PIN verify, OTP trigger/verify; plus the CC-only PIN reset.

Operations: ottStatusGet, ottStatusGetV1, ottPinVerify, scaPinVerify, ott{Sms,Whatsapp,Voice}Trigger,
ott{Sms,Whatsapp,Voice}Verify, userSecurityPinDelete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._http import FakeResponse, Rejection, empty_response, errors_response, json_response
from ._jose_hook import read_secure_json, secure_response
from ._routes_profiles import owned_profile
from ._routing import Call, Route, route
from ._sca import OTP_CHANNELS, OneTimeToken, blocked, ott_properties, record_failure

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["ROUTES"]


def _ott(fake: FakeWise, call: Call) -> OneTimeToken:
    """The OTT named by the ``One-Time-Token`` header, if it is the caller's and still usable."""
    value = call.request.headers.get("one-time-token")
    if not value:
        raise Rejection(
            errors_response(400, "NOT_VALID", "One-Time-Token header is required.", "One-Time-Token")
        )
    ott = fake._otts.get(value)
    if ott is None or ott.user_id != call.user_id:
        raise Rejection(errors_response(404, "OTT_NOT_FOUND", "One-time token not found."))
    if ott.used or fake.clock.now() >= ott.expires_at:
        raise Rejection(errors_response(400, "OTT_INVALID", "One-time token is used or expired."))
    return ott


def _pass(fake: FakeWise, call: Call, ott: OneTimeToken, challenge_type: str, ok: bool) -> None:
    """Mark the challenge passed, or count a failure (enough of them block SCA for a while)."""
    if blocked(fake, call.user_id):
        raise Rejection(errors_response(403, "SCA_BLOCKED", "Too many failed attempts, try again later."))
    challenge = ott.challenge_for(challenge_type)
    if challenge is None:
        raise Rejection(errors_response(400, "CHALLENGE_NOT_REQUESTED", f"No {challenge_type} challenge."))
    if not ok:
        record_failure(fake, call.user_id)
        raise Rejection(errors_response(400, f"{challenge_type}_INVALID", f"Wrong {challenge_type} value."))
    challenge.passed = True
    fake.counters[f"sca_passed:{challenge_type}"] += 1


def _status_body(fake: FakeWise, ott: OneTimeToken) -> dict[str, Any]:
    return {"oneTimeTokenProperties": ott_properties(fake, ott)}


def _ott_status(fake: FakeWise, call: Call) -> FakeResponse:
    return json_response(200, _status_body(fake, _ott(fake, call)))


ott_status = route("GET", "/v1/one-time-token/status", "ottStatusGet", "user")(_ott_status)
ott_status_v1 = route("GET", "/v1/identity/one-time-token/status", "ottStatusGetV1", "user")(_ott_status)


def _check_pin(fake: FakeWise, call: Call, ott: OneTimeToken) -> None:
    body = read_secure_json(fake, call.request)
    expected = fake._pins.get(call.user_id)
    _pass(fake, call, ott, "PIN", expected is not None and body.get("pin") == expected)


@route("POST", "/v1/one-time-token/pin/verify", "ottPinVerify", "user")
def ott_pin_verify(fake: FakeWise, call: Call) -> FakeResponse:
    ott = _ott(fake, call)
    _check_pin(fake, call, ott)
    return secure_response(fake, call.request, json_response(200, _status_body(fake, ott)))


@route("POST", "/v2/profiles/{profileId}/pin/verify", "scaPinVerify", "user")
def sca_pin_verify(fake: FakeWise, call: Call) -> FakeResponse:
    owned_profile(fake, call, call.int_param("profileId"))
    ott = _ott(fake, call)
    _check_pin(fake, call, ott)
    return profile_verify_response(fake, call, ott)


def _otp_routes(channel: str) -> list[Route]:
    name = channel.capitalize()
    path = f"/v1/one-time-token/{channel.lower()}"

    def trigger(fake: FakeWise, call: Call) -> FakeResponse:
        ott = _ott(fake, call)
        if ott.challenge_for(channel) is None:
            raise Rejection(errors_response(400, "CHALLENGE_NOT_REQUESTED", f"No {channel} challenge."))
        ott.triggered.add(channel)
        fake.counters[f"otp_sent:{channel}"] += 1
        return json_response(200, {"obfuscatedPhoneNo": fake._obfuscated_phone(ott.user_id)})

    def verify(fake: FakeWise, call: Call) -> FakeResponse:
        ott = _ott(fake, call)
        body = call.request.json_object()
        if channel not in ott.triggered:
            raise Rejection(errors_response(400, "OTP_NOT_TRIGGERED", f"Trigger the {channel} code first."))
        _pass(fake, call, ott, channel, body.get("otpCode") == fake.otp_code)
        return json_response(200, _status_body(fake, ott))

    return [
        route("POST", f"{path}/trigger", f"ott{name}Trigger", "user")(trigger),
        route("POST", f"{path}/verify", f"ott{name}Verify", "user")(verify),
    ]


@route("DELETE", "/v1/users/{userId}/pin", "userSecurityPinDelete", "client")
def user_pin_delete(fake: FakeWise, call: Call) -> FakeResponse:
    if fake._pins.pop(call.int_param("userId"), None) is None:
        raise Rejection(errors_response(404, "NOT_FOUND", "No PIN for this user."))
    return empty_response(204)


ROUTES = [
    ott_status,
    ott_status_v1,
    ott_pin_verify,
    sca_pin_verify,
    *(r for channel in OTP_CHANNELS for r in _otp_routes(channel)),
    user_pin_delete,
]


def profile_verify_response(fake: FakeWise, call: Call, ott: OneTimeToken) -> FakeResponse:
    """What the profile-level factor verify endpoints answer: the OTT and each challenge's state."""
    properties = ott_properties(fake, ott)
    body = {
        "oneTimeToken": ott.token,
        "challenges": [
            {"primaryChallenge": {"type": c["primaryChallenge"]["type"]}, "passed": c["passed"]}
            for c in properties["challenges"]
        ],
        "validity": properties["validity"],
    }
    return secure_response(fake, call.request, json_response(200, body))
