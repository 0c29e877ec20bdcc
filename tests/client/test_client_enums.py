"""Enum values Wise adds later do not break parsing; requests still check values strictly, and request
models take enum values as their members or as the strings."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from wise_api.models import (
    Activity,
    ActivityStatus,
    BalanceCreateBody,
    BalanceType,
    BusinessProfile,
    CardStatusUpdateBody,
    CardStatusUpdateBodyStatus,
    PersonalProfile,
    RecipientCreateRequest,
    RecipientCreateRequestDetails,
    RecipientCreateRequestDetailsLegalType,
    VerificationUploadEvidencesV3BusinessProfile,
    VerificationUploadEvidencesV3BusinessProfileBusinessUseCaseItem,
)

from wise_async import InvalidRequestError, WiseClient
from wise_async.testing import FakeWise

from .helpers import new_fake, personal_client


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


# --- request models: enum fields take strings --------------------------------------------------------


@pytest.fixture
def fake() -> FakeWise:
    return new_fake()


def test_a_request_models_enum_field_given_as_a_string_holds_the_member() -> None:
    body = CardStatusUpdateBody(status="FROZEN")
    assert body.status is CardStatusUpdateBodyStatus.FROZEN
    assert body.to_dict() == {"status": "FROZEN"}
    details = RecipientCreateRequestDetails(legal_type="PRIVATE")
    assert details.legal_type is RecipientCreateRequestDetailsLegalType.PRIVATE
    details.legal_type = "BUSINESS"  # type: ignore[assignment]  # mypy types the attribute; attrs converts
    assert details.legal_type is RecipientCreateRequestDetailsLegalType.BUSINESS
    assert RecipientCreateRequestDetails().to_dict() == {}  # the default stays UNSET: nothing sent


def test_a_list_of_enum_values_holds_the_members() -> None:
    item = VerificationUploadEvidencesV3BusinessProfileBusinessUseCaseItem
    profile = VerificationUploadEvidencesV3BusinessProfile(
        business_use_case=("PAYING_RENT_OR_UTILITIES", item.PAYING_TAX_ON_PROFIT_OR_PROPERTY)
    )
    assert profile.business_use_case == [item.PAYING_RENT_OR_UTILITIES, item.PAYING_TAX_ON_PROFIT_OR_PROPERTY]
    assert all(type(member) is item for member in profile.business_use_case)


def test_a_dict_body_builds_the_same_model_as_the_strings() -> None:
    parsed = RecipientCreateRequestDetails.from_dict({"legalType": "PRIVATE", "sortCode": "040075"})
    assert parsed == RecipientCreateRequestDetails(legal_type="PRIVATE", sort_code="040075")


async def test_enum_strings_in_request_models_are_sent_as_their_values(fake: FakeWise) -> None:
    async with personal_client(fake) as wise:
        await wise.balances.create(
            fake.personal_profile_id, body=BalanceCreateBody(currency="EUR", type_="SAVINGS")
        )
    (sent,) = [r for r in fake.requests if r.path.endswith("/balances")]
    assert json.loads(sent.body)["type"] == "SAVINGS"


@pytest.mark.parametrize(
    ("body", "path", "given"),
    [
        (CardStatusUpdateBody(status="FROZE"), "CardStatusUpdateBody.status", "'FROZE'"),  # type: ignore[arg-type]
        (CardStatusUpdateBody(status=ActivityStatus.COMPLETED), "CardStatusUpdateBody.status", "COMPLETED"),  # type: ignore[arg-type]
        (CardStatusUpdateBody(status=3), "CardStatusUpdateBody.status", "got an integer"),  # type: ignore[arg-type]
    ],
)
async def test_a_value_the_enum_does_not_have_is_refused_before_sending_naming_the_field(
    fake: FakeWise, body: CardStatusUpdateBody, path: str, given: str
) -> None:
    async with personal_client(fake) as wise:
        with pytest.raises(InvalidRequestError) as caught:
            await wise.cards.status_update(fake.personal_profile_id, uuid.uuid4(), body=body)
    message = str(caught.value)
    assert message.startswith(f"cardStatusUpdate: {path}: expected one of 'ACTIVE', 'FROZEN', 'BLOCKED'")
    assert given in message
    assert fake.requests == []


async def test_a_nested_enum_typo_is_named_by_its_path(fake: FakeWise) -> None:
    details = RecipientCreateRequestDetails(legal_type="PRIVAT")  # type: ignore[arg-type]
    body = RecipientCreateRequest(currency="GBP", type_="sort_code", profile=1, details=details)
    async with personal_client(fake) as wise:
        with pytest.raises(
            InvalidRequestError, match=r"RecipientCreateRequest\.details\.legalType: .*'PRIVAT'"
        ):
            await wise.recipients.create(body=body)
    assert fake.requests == []


def test_the_low_level_model_still_refuses_the_typo_when_serialized() -> None:
    """Outside the facade (``wise_api`` used directly) ``to_dict`` is as strict as before."""
    body: Any = CardStatusUpdateBody(status="FROZE")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="FROZE"):
        body.to_dict()
    assert BalanceCreateBody(currency="EUR", type_=BalanceType.STANDARD).to_dict()["type"] == "STANDARD"
