"""Strong customer authentication: what to do when Wise answers 403 with ``x-2fa-approval``.

The auth flow hands every such challenge to one ``ScaHandler``. It returns the headers that approve the
one-time token (then the identical request is sent once more) or raises. Three handlers ship:

* :class:`PrivateKeyScaSigner` — personal tokens: sign the OTT with the user's RSA key.
* :class:`PartnerScaSolver` — "SCA over API": read the OTT's challenges, clear each with an app-supplied
  factor provider through Wise's verify endpoints, then approve.
* :class:`RaiseScaRequired` (default) — raise :class:`ScaRequiredError` with the challenges, so the app can
  run them with its user and call ``await error.resume()``.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import httpx

from ._exceptions import (
    APIResponseValidationError,
    ConfigurationError,
    ScaChallenge,
    ScaRequiredError,
    WiseError,
    make_status_error,
)
from ._operations import OperationSpec, operation_path
from ._record import Record, record, set_field

if TYPE_CHECKING:  # cryptography loads only when a signer is made (~30 ms of import time otherwise)
    from cryptography.hazmat.primitives.asymmetric import rsa

APPROVAL_HEADER = "x-2fa-approval"
SIGNATURE_HEADER = "X-Signature"
OTT_HEADER = "One-Time-Token"
OTT_STATUS_PATH = "/v1/one-time-token/status"

SendRaw = Callable[..., Awaitable[httpx.Response]]


@record
class ScaContext(Record):
    """One challenge: the token, the rejected request/response, and a way to call Wise about it."""

    one_time_token: str = field(repr=False)
    request: httpx.Request
    response: httpx.Response
    operation: OperationSpec | None
    send: SendRaw = field(repr=False)

    def __init__(
        self,
        one_time_token: str,
        request: httpx.Request,
        response: httpx.Response,
        operation: OperationSpec | None,
        send: SendRaw,
    ) -> None:
        set_field(self, "one_time_token", one_time_token)
        set_field(self, "request", request)
        set_field(self, "response", response)
        set_field(self, "operation", operation)
        set_field(self, "send", send)

    def __repr__(self) -> str:
        return (
            f"ScaContext(one_time_token='***', request={self.request!r}, response={self.response!r}, "
            f"operation={self.operation!r})"
        )

    async def status(self) -> tuple[list[ScaChallenge], str | None]:
        """The OTT's challenges and actionType (``GET /v1/one-time-token/status``)."""
        path = operation_path("ottStatusGet", OTT_STATUS_PATH)
        response = await self.send("GET", path, headers={OTT_HEADER: self.one_time_token})
        if not response.is_success:
            raise make_status_error(response)
        try:
            data = response.json()
        except (ValueError, RecursionError):
            data = None
        props = data.get("oneTimeTokenProperties") if isinstance(data, dict) else None
        challenges = props.get("challenges") if isinstance(props, dict) else None
        if not isinstance(props, dict) or not isinstance(challenges, list):
            raise APIResponseValidationError(
                response, "one-time token status: expected oneTimeTokenProperties.challenges (a list)"
            )
        action_type = props.get("actionType")
        return (
            [ScaChallenge.from_wise(c) for c in challenges if isinstance(c, dict)],
            action_type if isinstance(action_type, str) else None,
        )


class ScaHandler(Protocol):
    async def approve(self, context: ScaContext) -> Mapping[str, str]:
        """Headers that approve the OTT for the retry; raise to give up."""
        ...


class ScaSolverError(WiseError):
    """A challenge could not be cleared: no provider for its type, or Wise refused the factor."""


class RaiseScaRequired:
    """Default: surface the challenge to the application with everything needed to resume."""

    def __init__(self, *, fetch_challenges: bool = True) -> None:
        self._fetch = fetch_challenges

    async def approve(self, context: ScaContext) -> Mapping[str, str]:
        challenges: list[ScaChallenge] = []
        action_type = None
        if self._fetch:
            # personal tokens may not read OTT status; the OTT alone still lets the app resume
            with contextlib.suppress(WiseError):
                challenges, action_type = await context.status()
        raise ScaRequiredError(
            response=context.response,
            one_time_token=context.one_time_token,
            challenges=challenges,
            action_type=action_type,
        )


class PrivateKeyScaSigner:
    """Sign the OTT (UTF-8) with RSASSA-PKCS1-v1_5 + SHA-256 and send it as ``X-Signature``.

    Wise no longer accepts this for UK/EEA personal accounts (PSD2); the second 403 then surfaces as
    :class:`ScaRejectedError` — never a loop.
    """

    def __init__(
        self, private_key: rsa.RSAPrivateKey | bytes | str, *, password: bytes | None = None
    ) -> None:
        if isinstance(private_key, str):
            private_key = private_key.encode()
        if isinstance(private_key, bytes):
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            try:
                loaded = serialization.load_pem_private_key(private_key, password=password)
            except (ValueError, TypeError):  # malformed, or a wrong or missing password
                raise ConfigurationError(
                    "the SCA signing key could not be loaded: not a PEM private key, or a wrong password"
                ) from None
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ConfigurationError("SCA signing needs an RSA private key")
            private_key = loaded
        self._key = private_key

    def __repr__(self) -> str:
        return f"PrivateKeyScaSigner(key_size={self._key.key_size})"

    def sign(self, one_time_token: str) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = self._key.sign(one_time_token.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")

    async def approve(self, context: ScaContext) -> Mapping[str, str]:
        return {APPROVAL_HEADER: context.one_time_token, SIGNATURE_HEADER: self.sign(context.one_time_token)}


FactorProvider = Callable[[ScaChallenge], Awaitable[str]]
JoseBodyEncoder = Callable[[Mapping[str, Any]], Awaitable[tuple[bytes, Mapping[str, str]]]]


async def _plain_json(payload: Mapping[str, Any]) -> tuple[bytes, Mapping[str, str]]:
    return json.dumps(payload).encode(), {"Content-Type": "application/json"}


class PartnerScaSolver:
    """Clear an OTT's challenges with factor providers the application supplies.

    Each provider is ``async (challenge) -> str``: the PIN, the device fingerprint, the base64 facemap,
    or the OTP the user received (providers for SMS/WhatsApp/voice get called after the OTP was
    triggered). PIN and device fingerprint go to Wise as JWE: give the client ``jose_keys=`` and its
    JOSE transport layer encrypts these verify calls and decrypts Wise's answers (the operation table
    marks them as JOSE). Without ``jose_keys`` they are sent as JSON (accepted by FakeWise only).
    ``jose_body`` replaces the body encoder, e.g. to forward a JWE built on the user's device.
    """

    OTP_TYPES: ClassVar[dict[str, str]] = {"SMS": "sms", "WHATSAPP": "whatsapp", "VOICE": "voice"}

    def __init__(
        self,
        *,
        profile_id: int | str,
        pin: FactorProvider | None = None,
        device_fingerprint: FactorProvider | None = None,
        facemap: FactorProvider | None = None,
        otp: FactorProvider | None = None,
        jose_body: JoseBodyEncoder | None = None,
    ) -> None:
        self._profile_id = profile_id
        self._providers: dict[str, FactorProvider | None] = {
            "PIN": pin,
            "PARTNER_DEVICE_FINGERPRINT": device_fingerprint,
            "FACE_MAP": facemap,
            "SMS": otp,
            "WHATSAPP": otp,
            "VOICE": otp,
        }
        self._jose_body = jose_body

    def __repr__(self) -> str:
        kinds = sorted(k for k, v in self._providers.items() if v is not None)
        return f"PartnerScaSolver(profile_id={self._profile_id!r}, factors={kinds})"

    def _pick(self, challenge: ScaChallenge) -> str | None:
        for kind in (challenge.type, *challenge.alternatives):
            if self._providers.get(kind) is not None:
                return kind
        return None

    async def approve(self, context: ScaContext) -> Mapping[str, str]:
        challenges, _ = await context.status()
        for challenge in challenges:
            if not challenge.required or challenge.passed:
                continue
            kind = self._pick(challenge)
            if kind is None:
                raise ScaSolverError(f"no factor provider for required SCA challenge {challenge.type}")
            await self._clear(context, kind, challenge)
        remaining, _ = await context.status()
        pending = [c.type for c in remaining if c.required and not c.passed]
        if pending:
            raise ScaSolverError(f"SCA challenges still pending after verification: {', '.join(pending)}")
        return {APPROVAL_HEADER: context.one_time_token}

    async def _clear(self, context: ScaContext, kind: str, challenge: ScaChallenge) -> None:
        provider = self._providers[kind]
        assert provider is not None
        headers = {OTT_HEADER: context.one_time_token}
        base = f"/v2/profiles/{self._profile_id}"  # documented paths; the bundle's win (operation_path)
        profile = {"profileId": self._profile_id}
        if kind in self.OTP_TYPES:
            channel = self.OTP_TYPES[kind]
            name = f"ott{channel.capitalize()}"
            trigger_path = operation_path(f"{name}Trigger", f"/v1/one-time-token/{channel}/trigger")
            trigger = await context.send("POST", trigger_path, headers=headers)
            _raise_for(trigger, kind)
            code = await provider(challenge)
            verify_path = operation_path(f"{name}Verify", f"/v1/one-time-token/{channel}/verify")
            response = await context.send("POST", verify_path, headers=headers, json={"otpCode": code})
        elif kind == "FACE_MAP":
            response = await context.send(
                "POST",
                operation_path("scaFacemapVerify", f"{base}/facemaps/verify", **profile),
                headers=headers,
                json={"faceMap": await provider(challenge)},
            )
        else:
            field, path = (
                ("pin", operation_path("scaPinVerify", f"{base}/pin/verify", **profile))
                if kind == "PIN"
                else (
                    "deviceFingerprint",
                    operation_path(
                        "scaDeviceFingerprintVerify", f"{base}/device-fingerprints/verify", **profile
                    ),
                )
            )
            encode = self._jose_body or _plain_json
            content, content_headers = await encode({field: await provider(challenge)})
            response = await context.send(
                "POST", path, headers={**headers, **content_headers}, content=content
            )
        _raise_for(response, kind)


def _raise_for(response: httpx.Response, kind: str) -> None:
    if not response.is_success:
        raise ScaSolverError(
            f"Wise refused the {kind} factor (HTTP {response.status_code})"
        ) from make_status_error(response)
