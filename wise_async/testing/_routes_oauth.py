"""``POST /oauth/token`` (oauthTokenCreate): Basic client auth, four grant types."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from ._http import FakeResponse, Rejection, json_response, oauth_error
from ._routing import Call, route

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["ROUTES"]


def _client_id(fake: FakeWise, call: Call) -> str:
    """The authenticated client, or 401 ``invalid_client`` for missing/unknown/wrong credentials."""
    scheme, _, encoded = call.request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, sep, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, ValueError):
            sep = ""
        if sep and fake._clients.get(client_id) == secret:
            return client_id
    raise Rejection(oauth_error(401, "invalid_client", "Bad client credentials"))


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise Rejection(oauth_error(400, "invalid_request", f"Missing {name}"))
    return value


def _invalid_grant(description: str) -> Rejection:
    return Rejection(oauth_error(400, "invalid_grant", description))


@route("POST", "/oauth/token", "oauthTokenCreate", "basic")
def token_create(fake: FakeWise, call: Call) -> FakeResponse:
    fake.counters["oauth_token"] += 1
    client_id = _client_id(fake, call)
    form = call.request.form()
    grant = form.get("grant_type", "")
    if not grant:
        raise Rejection(oauth_error(400, "invalid_request", "Missing grant type"))
    fake.counters[f"grant:{grant}"] += 1
    ttl, refresh_ttl, scope = fake.access_token_ttl, fake.refresh_token_ttl, fake.token_scope

    if grant == "client_credentials":
        return json_response(200, fake._tokens.issue_client(client_id, ttl, scope))

    if grant == "refresh_token":
        fake.counters["refresh"] += 1
        old = fake._tokens.usable_refresh(_required(form, "refresh_token"), client_id)
        if old is None:
            raise _invalid_grant("Invalid refresh token")
        return json_response(200, fake._tokens.rotate(old, client_id, ttl, refresh_ttl))

    if grant == "authorization_code":
        if _required(form, "client_id") != client_id:
            raise _invalid_grant("client_id does not match the authenticated client")
        code = fake._authorization_codes.get(_required(form, "code"))
        redirect_uri = _required(form, "redirect_uri")
        if code is None or code.client_id not in (None, client_id):
            raise _invalid_grant("Invalid authorization code")
        if code.redirect_uri != redirect_uri:
            raise _invalid_grant("Redirect URI mismatch.")
        del fake._authorization_codes[code.code]  # single use
        return json_response(200, fake._tokens.issue_user(code.user_id, client_id, ttl, refresh_ttl, scope))

    if grant == "registration_code":
        if _required(form, "client_id") != client_id:
            raise _invalid_grant("client_id does not match the authenticated client")
        key = (_required(form, "email").lower(), _required(form, "registration_code"))
        registration = fake._registration_codes.get(key)
        if registration is None or registration.client_id not in (None, client_id):
            raise _invalid_grant("Invalid registration code")
        del fake._registration_codes[key]
        return json_response(
            200, fake._tokens.issue_user(registration.user_id, client_id, ttl, refresh_ttl, scope)
        )

    raise Rejection(oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}"))


ROUTES = [token_create]
