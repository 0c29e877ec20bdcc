"""JOSE keys, playgrounds, and the JOSE-protected SCA factors (PIN create, device fingerprints).

Operations: joseResponsePublicKeysGet, joseRequestPublicKeysCreate, josePlaygroundJws,
josePlaygroundJweGet, josePlaygroundJwePost, josePlaygroundJweDirectEncryption, josePlaygroundJwsJwe,
scaPinCreate, userSecurityPinCreate, scaDeviceFingerprintCreate, userSecurityDeviceFingerprintCreate,
scaDeviceFingerprintVerify, ottDeviceFingerprintVerify, scaDeviceFingerprintDelete,
userSecurityDeviceFingerprintList, userSecurityDeviceFingerprintDelete.

The factor routes work with plain JSON too (like PIN verify) until a JOSE hook is attached; the key
and playground routes attach a :class:`FakeJose` on first use, since they mean nothing without one.
"""

from __future__ import annotations

import binascii
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ._clock import format_iso
from ._fake_jose import FakeJose
from ._http import FakeResponse, Rejection, empty_response, errors_response, json_response
from ._jose_hook import is_jose, read_secure_json, secure_response
from ._routes_profiles import owned_profile
from ._routes_sca import _ott, _pass, _status_body, profile_verify_response
from ._routing import Call, route

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["ROUTES", "device_fingerprints"]

DEVICE_FINGERPRINT = "PARTNER_DEVICE_FINGERPRINT"
MAX_DEVICE_FINGERPRINTS: Final = 3
_SCOPES: Final = ("PAYLOAD_ENCRYPTION", "PAYLOAD_SIGNING")
_PLAYGROUND_PREFIX: Final = "jose-playground-response-"


@dataclass
class DeviceFingerprint:
    fingerprint_id: str
    value: str
    created_at: float

    def __repr__(self) -> str:
        return f"DeviceFingerprint(fingerprint_id={self.fingerprint_id!r})"

    def public(self) -> dict[str, Any]:
        return {
            "deviceFingerprintId": self.fingerprint_id,
            "createdAt": format_iso(self.created_at, millis=True),
        }


_FINGERPRINTS: weakref.WeakKeyDictionary[FakeWise, dict[int, dict[str, DeviceFingerprint]]] = (
    weakref.WeakKeyDictionary()
)


def device_fingerprints(fake: FakeWise, user_id: int | None = None) -> dict[str, DeviceFingerprint]:
    """The device fingerprints of a user (the seeded user by default), by id; live, mutable."""
    per_user = _FINGERPRINTS.setdefault(fake, {})
    return per_user.setdefault(user_id or fake.user_id, {})


# --------------------------------------------------------------------------------------------------
# Keys


@route("GET", "/v1/auth/jose/response/public-keys", "joseResponsePublicKeysGet", "client")
def wise_public_key(fake: FakeWise, call: Call) -> FakeResponse:
    jose = FakeJose.of(fake)
    scope, algorithm = call.request.param("scope"), call.request.param("algorithm")
    if scope not in _SCOPES or not algorithm:
        raise Rejection(errors_response(400, "NOT_VALID", "scope and algorithm are required.", "scope"))
    if scope == "PAYLOAD_ENCRYPTION":
        expected, key_id, version = "RSA_OAEP_256", jose.encryption_key_id, jose.encryption_key_version
    else:
        expected, key_id, version = jose.signing_algorithm, jose.signing_key_id, jose.signing_key_version
    if algorithm != expected:
        raise Rejection(errors_response(404, "NOT_FOUND", f"No {scope} key for algorithm {algorithm}."))
    fake.counters[f"jose_key_fetch:{scope}"] += 1
    return json_response(
        200,
        {
            "keyId": key_id,
            "version": version,
            "keyMaterial": {"algorithm": algorithm, "keyMaterial": jose.public_key_b64(scope)},
            "scope": scope,
        },
    )


@route("POST", "/v1/auth/jose/request/public-keys", "joseRequestPublicKeysCreate", "client")
def client_public_key_create(fake: FakeWise, call: Call) -> FakeResponse:
    jose = FakeJose.of(fake)
    body = call.request.json_object()
    key_id, scope, material = body.get("keyId"), body.get("scope"), body.get("publicKeyMaterial")
    if not isinstance(key_id, str) or scope not in _SCOPES or not isinstance(material, dict):
        raise Rejection(errors_response(400, "NOT_VALID", "keyId, scope and publicKeyMaterial are required."))
    algorithm, key_b64 = material.get("algorithm"), material.get("keyMaterial")
    if not isinstance(algorithm, str) or not isinstance(key_b64, str):
        raise Rejection(
            errors_response(400, "NOT_VALID", "publicKeyMaterial needs algorithm and keyMaterial.")
        )
    try:
        registered = jose.register_client_key(
            key_b64,
            key_id=key_id,
            scope=scope,
            algorithm=algorithm,
            client_id=call.principal.client_id if call.principal else None,
        )
    except (ValueError, TypeError, binascii.Error):
        raise Rejection(errors_response(400, "NOT_VALID", "Public key material is not usable.")) from None
    registered.valid_from = body.get("validFrom")
    registered.valid_till = body.get("validTill")
    return json_response(
        201,
        {
            "clientId": None,
            "keyId": key_id,
            "scope": scope,
            "validFrom": registered.valid_from,
            "validTill": registered.valid_till,
            "publicKeyMaterial": {"algorithm": algorithm, "keyMaterial": key_b64},
            "deactivationTimestamp": None,
        },
    )


# --------------------------------------------------------------------------------------------------
# Playgrounds: JOSE is mandatory; the answer echoes the message


def _playground(method: str) -> Callable[[FakeWise, Call], FakeResponse]:
    def handler(fake: FakeWise, call: Call) -> FakeResponse:
        jose = FakeJose.of(fake)
        request = call.request
        if FakeJose.method_of(request) != method:
            raise Rejection(errors_response(400, "NOT_VALID", f"x-tw-jose-method must be {method}."))
        message = ""
        if request.method != "GET":
            if not is_jose(request):
                raise Rejection(errors_response(400, "NOT_VALID", "The body must be JOSE."))
            message = str(read_secure_json(fake, request).get("message", ""))
        answer = {"message": (_PLAYGROUND_PREFIX + message)[:100], "method": request.method}
        return jose.encode_response(request, json_response(200, answer))

    return handler


PLAYGROUND = "/v1/auth/jose/playground"
playground_jws = route("POST", f"{PLAYGROUND}/jws", "josePlaygroundJws", "client")(_playground("jws"))
playground_jwe_get = route("GET", f"{PLAYGROUND}/jwe", "josePlaygroundJweGet", "client")(_playground("jwe"))
playground_jwe_post = route("POST", f"{PLAYGROUND}/jwe", "josePlaygroundJwePost", "client")(
    _playground("jwe")
)
playground_direct = route(
    "POST", f"{PLAYGROUND}/jwe-direct-encryption", "josePlaygroundJweDirectEncryption", "client"
)(_playground("jwe"))
playground_jws_jwe = route("POST", f"{PLAYGROUND}/jwsjwe", "josePlaygroundJwsJwe", "client")(
    _playground("jws+jwe")
)


# --------------------------------------------------------------------------------------------------
# PIN creation


def _create_pin(fake: FakeWise, call: Call) -> None:
    pin = read_secure_json(fake, call.request).get("pin")
    if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit() or len(pin) != 4:
        raise Rejection(errors_response(400, "NOT_VALID", "PIN must be four digits.", "pin"))
    if call.user_id in fake._pins:
        raise Rejection(errors_response(409, "PIN_EXISTS", "PIN has already been created."))
    fake._pins[call.user_id] = pin
    fake.counters["pin_created"] += 1


@route("POST", "/v2/profiles/{profileId}/pin", "scaPinCreate", "user")
def sca_pin_create(fake: FakeWise, call: Call) -> FakeResponse:
    owned_profile(fake, call, call.int_param("profileId"))
    _create_pin(fake, call)
    return empty_response(200)


@route("POST", "/v1/user/pin", "userSecurityPinCreate", "user")
def user_pin_create(fake: FakeWise, call: Call) -> FakeResponse:
    _create_pin(fake, call)
    return empty_response(204)


# --------------------------------------------------------------------------------------------------
# Device fingerprints


def _fingerprint_value(fake: FakeWise, call: Call) -> str:
    value = read_secure_json(fake, call.request).get("deviceFingerprint")
    if not isinstance(value, str) or not value:
        raise Rejection(
            errors_response(400, "NOT_VALID", "deviceFingerprint is required.", "deviceFingerprint")
        )
    return value


def _create_fingerprint(fake: FakeWise, call: Call) -> FakeResponse:
    value = _fingerprint_value(fake, call)
    existing = device_fingerprints(fake, call.user_id)
    if any(f.value == value for f in existing.values()):
        raise Rejection(
            errors_response(409, "ALREADY_EXISTS", "The device fingerprint has already been created.")
        )
    if len(existing) >= MAX_DEVICE_FINGERPRINTS:
        raise Rejection(
            errors_response(400, "LIMIT_REACHED", "Maximum number of device fingerprints reached.")
        )
    fingerprint = DeviceFingerprint(fake._new_secret(), value, fake.clock.now())
    existing[fingerprint.fingerprint_id] = fingerprint
    return secure_response(fake, call.request, json_response(200, fingerprint.public()))


@route("POST", "/v2/profiles/{profileId}/device-fingerprints", "scaDeviceFingerprintCreate", "user")
def sca_device_fingerprint_create(fake: FakeWise, call: Call) -> FakeResponse:
    owned_profile(fake, call, call.int_param("profileId"))
    return _create_fingerprint(fake, call)


@route("POST", "/v1/user/partner-device-fingerprints", "userSecurityDeviceFingerprintCreate", "user")
def user_device_fingerprint_create(fake: FakeWise, call: Call) -> FakeResponse:
    return _create_fingerprint(fake, call)


def _check_fingerprint(fake: FakeWise, call: Call) -> Any:
    ott = _ott(fake, call)
    value = _fingerprint_value(fake, call)
    known = any(f.value == value for f in device_fingerprints(fake, call.user_id).values())
    _pass(fake, call, ott, DEVICE_FINGERPRINT, known)
    return ott


@route("POST", "/v2/profiles/{profileId}/device-fingerprints/verify", "scaDeviceFingerprintVerify", "user")
def sca_device_fingerprint_verify(fake: FakeWise, call: Call) -> FakeResponse:
    owned_profile(fake, call, call.int_param("profileId"))
    ott = _check_fingerprint(fake, call)
    return profile_verify_response(fake, call, ott)


@route("POST", "/v1/one-time-token/partner-device-fingerprint/verify", "ottDeviceFingerprintVerify", "user")
def ott_device_fingerprint_verify(fake: FakeWise, call: Call) -> FakeResponse:
    ott = _check_fingerprint(fake, call)
    return secure_response(fake, call.request, json_response(200, _status_body(fake, ott)))


@route(
    "DELETE",
    "/v2/profiles/{profileId}/device-fingerprints/{deviceFingerprintId}",
    "scaDeviceFingerprintDelete",
    "user",
)
def sca_device_fingerprint_delete(fake: FakeWise, call: Call) -> FakeResponse:
    owned_profile(fake, call, call.int_param("profileId"))
    if device_fingerprints(fake, call.user_id).pop(call.params["deviceFingerprintId"], None) is None:
        raise Rejection(errors_response(404, "NOT_FOUND", "The device fingerprint ID does not exist."))
    return empty_response(204)


@route("GET", "/v1/users/{userId}/partner-device-fingerprints", "userSecurityDeviceFingerprintList", "client")
def user_device_fingerprint_list(fake: FakeWise, call: Call) -> FakeResponse:
    user_id = call.int_param("userId")
    if user_id not in fake._users:
        raise Rejection(errors_response(404, "NOT_FOUND", "The user is not found."))
    return json_response(200, [f.public() for f in device_fingerprints(fake, user_id).values()])


@route(
    "DELETE",
    "/v1/users/{userId}/partner-device-fingerprints/{deviceFingerprintId}",
    "userSecurityDeviceFingerprintDelete",
    "client",
)
def user_device_fingerprint_delete(fake: FakeWise, call: Call) -> FakeResponse:
    removed = device_fingerprints(fake, call.int_param("userId")).pop(
        call.params["deviceFingerprintId"], None
    )
    if removed is None:
        raise Rejection(errors_response(404, "NOT_FOUND", "User or deviceFingerprintId is not found."))
    return empty_response(204)


ROUTES = [
    wise_public_key,
    client_public_key_create,
    playground_jws,
    playground_jwe_get,
    playground_jwe_post,
    playground_direct,
    playground_jws_jwe,
    sca_pin_create,
    user_pin_create,
    sca_device_fingerprint_create,
    user_device_fingerprint_create,
    sca_device_fingerprint_verify,
    ott_device_fingerprint_verify,
    sca_device_fingerprint_delete,
    user_device_fingerprint_list,
    user_device_fingerprint_delete,
]
