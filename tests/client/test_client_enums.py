"""Enum values Wise adds later do not break parsing; requests still check values strictly."""

from __future__ import annotations

import httpx
from wise_api.models import Activity, ActivityStatus, BusinessProfile, PersonalProfile

from wise_async import WiseClient
from wise_async.testing import FakeWise

from .helpers import new_fake


def test_an_unknown_enum_value_parses_as_an_unknown_member_and_round_trips() -> None:
    activity = Activity.from_dict({"id": "a1", "type": "NEW_KIND", "status": "SOMETHING_NEW", "title": "t"})
    assert isinstance(activity.status, ActivityStatus)
    assert activity.status.name == "UNKNOWN" and activity.status.value == "SOMETHING_NEW"
    assert str(activity.status) == "SOMETHING_NEW"
    assert activity.to_dict()["status"] == "SOMETHING_NEW"  # sent back unchanged


def test_known_values_still_parse_to_their_members() -> None:
    activity = Activity.from_dict({"id": "a1", "status": "COMPLETED"})
    assert activity.status is ActivityStatus.COMPLETED


async def test_union_branches_are_chosen_by_tag_and_their_enums_take_new_values() -> None:
    # the profile list is a union of personal and business profiles, told apart by `type`; a new
    # `companyRole` in the business branch no longer sends the item to the wrong branch
    def handler(request: httpx.Request) -> httpx.Response:
        body = [
            {"type": "BUSINESS", "id": 2, "companyRole": "NEW_ROLE"},
            {"type": "PERSONAL", "id": 1, "currentState": "NEW_STATE"},
        ]
        return httpx.Response(200, json=body)

    async with WiseClient(personal_token="t", transport=httpx.MockTransport(handler)) as wise:
        business, personal = await wise.profiles.list()
    assert isinstance(business, BusinessProfile) and isinstance(personal, PersonalProfile)
    assert business.company_role is not None and business.company_role.value == "NEW_ROLE"
    assert personal.current_state is not None and personal.current_state.name == "UNKNOWN"


async def test_profile_list_still_yields_the_right_branch_per_item() -> None:
    fake: FakeWise = new_fake()
    async with WiseClient(personal_token=fake.add_personal_token(), transport=fake.transport()) as wise:
        profiles = await wise.profiles.list()
    kinds = {type(p).__name__: p.type_.value for p in profiles}
    assert kinds == {"PersonalProfile": "PERSONAL", "BusinessProfile": "BUSINESS"}


async def test_a_response_with_a_new_status_reaches_the_app() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"activities": [{"id": "a1", "status": "UNDER_REVIEW_NEW"}], "cursor": None}
        return httpx.Response(200, json=body)

    async with WiseClient(personal_token="t", transport=httpx.MockTransport(handler)) as wise:
        page = await wise.activities.list(1)
    assert page.activities[0].status.value == "UNDER_REVIEW_NEW"  # type: ignore[union-attr,index]
