"""Profiles: profileList, profileGet; plus the ownership check other resources reuse."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._http import FakeResponse, Rejection, errors_response, json_response
from ._routing import Call, route
from ._store import Record, public

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["ROUTES", "owned_profile"]


def owned_profile(fake: FakeWise, call: Call, profile_id: int) -> Record:
    """The caller's profile: 404 when unknown, 403 when it belongs to another user."""
    profile = fake.profiles.record(profile_id)
    if profile is None:
        raise Rejection(errors_response(404, "NOT_FOUND", f"Profile {profile_id} not found.", "profileId"))
    if profile["userId"] != call.user_id:
        raise Rejection(
            errors_response(403, "ACCESS_DENIED", "Profile belongs to another user.", "profileId")
        )
    return profile


@route("GET", "/v2/profiles", "profileList", "user")
def profile_list(fake: FakeWise, call: Call) -> FakeResponse:
    user_id = call.user_id
    return json_response(200, [public(p) for p in fake.profiles.records(lambda p: p["userId"] == user_id)])


@route("GET", "/v2/profiles/{profileId}", "profileGet", "user")
def profile_get(fake: FakeWise, call: Call) -> FakeResponse:
    return json_response(200, public(owned_profile(fake, call, call.int_param("profileId"))))


ROUTES = [profile_list, profile_get]
