"""``wise.recipient_forms``: Wise's account requirements as a form, validated here, refreshed only when asked.

FakeWise answers the account-requirements operations with the spec's example (a Korean PayGate form);
these tests give it the EUR IBAN form Wise's guide shows, through a route of their own.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from bundle_paths import path_of
from cryptography.hazmat.primitives.asymmetric import rsa
from loopback.servers import serve_in_thread

from wise_async.recipient_forms import RecipientFormError, iban_is_valid
from wise_async.testing import FakeWise
from wise_async.testing._http import FakeResponse, json_response
from wise_async.testing._routing import Call, Route

from .conftest import IBAN, Bank, report_figure

COUNTRIES = [{"key": "DE", "name": "Germany"}, {"key": "US", "name": "United States"}]
STATES = [{"key": "NY", "name": "New York"}, {"key": "CA", "name": "California"}]


def field(key: str, name: str, **extra: Any) -> dict[str, Any]:
    described = {
        "key": key,
        "name": name,
        "type": "text",
        "refreshRequirementsOnChange": False,
        "required": True,
        "displayFormat": None,
        "example": "",
        "minLength": None,
        "maxLength": None,
        "validationRegexp": None,
        "validationAsync": None,
        "valuesAllowed": None,
    }
    return {"name": name, "group": [{**described, **extra}]}


def iban_requirements(country: str | None) -> list[dict[str, Any]]:
    fields = [
        field(
            "legalType", "Recipient type", type="select", valuesAllowed=[{"key": "PRIVATE", "name": "Person"}]
        ),
        field(
            "IBAN",
            "IBAN",
            minLength=14,
            maxLength=42,
            example="DE12345678901234567890",
            validationRegexp=r"^[a-zA-Z]{2}[a-zA-Z0-9 ]{12,40}$",
        ),
        field(
            "address.country",
            "Country",
            type="select",
            refreshRequirementsOnChange=True,
            valuesAllowed=COUNTRIES,
        ),
        field("address.city", "City", maxLength=255),
        field("address.postCode", "Post code", maxLength=30),
        field("address.firstLine", "Address", maxLength=255),
    ]
    if country == "US":
        fields.insert(3, field("address.state", "State", type="select", valuesAllowed=STATES))
    return [{"type": "iban", "title": "IBAN", "usageInfo": None, "fields": fields}]


def serve_iban_form(fake: FakeWise) -> None:
    """Account requirements as Wise's guide shows them for EUR: GET the form, POST what is filled in."""

    def get(fake: FakeWise, call: Call) -> FakeResponse:
        return json_response(200, iban_requirements(None))

    def post(fake: FakeWise, call: Call) -> FakeResponse:
        body = json.loads(call.request.body)
        return json_response(
            200, iban_requirements(body.get("details", {}).get("address", {}).get("country"))
        )

    template = path_of("recipientAccountRequirementsGet")
    fake.router.routes[:0] = [
        Route("GET", template, "recipientAccountRequirementsGet", ("user",), get),
        Route("POST", template, "recipientAccountRequirementsPost", ("user",), post),
    ]


async def test_a_refresh_flagged_field_refetches_once_and_the_body_creates_the_recipient(
    bank: Bank, rsa_key: rsa.RSAPrivateKey
) -> None:
    serve_iban_form(bank.fake)
    with serve_in_thread(bank.fake.asgi_app) as url:
        async with bank.client(rsa_key, transport=None, base_url=url) as wise:
            quote = await wise.quotes.create(
                bank.profile_id, body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": 100}
            )
            form = await wise.recipient_forms.for_quote(quote.id, currency="EUR", profile=bank.profile_id)
            assert form.types == ("iban",)
            iban = form.field("IBAN")
            assert (iban.type, iban.required, iban.max_length, iban.refresh_on_change) == (
                "text",
                True,
                42,
                False,
            )
            assert [v.key for v in form.field("address.country").allowed or ()] == ["DE", "US"]
            refreshed = {}
            for key, value in [("legalType", "PRIVATE"), ("IBAN", IBAN), ("address.city", "New York")]:
                refreshed[key] = await form.set(key, value)
            others = len(bank.fake.calls("recipientAccountRequirementsPost"))
            refreshed["address.country"] = await form.set("address.country", "US")
            refreshes = len(bank.fake.calls("recipientAccountRequirementsPost"))
            assert await form.set("address.country", "US") is False  # unchanged: no request
            assert form.problems() == {
                "address.state": "required",
                "address.postCode": "required",
                "address.firstLine": "required",
            }
            for key, value in [
                ("address.state", "NY"),
                ("address.postCode", "10001"),
                ("address.firstLine", "1 Main St"),
            ]:
                await form.set(key, value)
            body = form.recipient_body(account_holder_name="Grace Hopper")
            recipient = await wise.recipients.create(body=body)
    assert refreshed == {"legalType": False, "IBAN": False, "address.city": False, "address.country": True}
    assert (others, refreshes, form.fetches) == (0, 1, 2)
    assert len(bank.fake.calls("recipientAccountRequirementsPost")) == 1
    assert body["details"]["address"] == {
        "country": "US",
        "state": "NY",
        "city": "New York",
        "postCode": "10001",
        "firstLine": "1 Main St",
    }
    assert (body["currency"], body["type"], body["accountHolderName"]) == ("EUR", "iban", "Grace Hopper")
    assert recipient.id in bank.fake.recipients
    report_figure(f"recipient forms: refresh-flagged field → {refreshes} re-fetch, other fields → {others}")


async def test_a_bad_iban_is_refused_with_no_request(bank: Bank, rsa_key: rsa.RSAPrivateKey) -> None:
    serve_iban_form(bank.fake)
    async with bank.client(rsa_key) as wise:
        form = await wise.recipient_forms.for_quote("any-quote", currency="EUR", profile=bank.profile_id)
        bank.fake.clear_requests()
        for key, value in [("legalType", "PRIVATE"), ("address.country", "DE"), ("address.city", "Berlin")]:
            await form.set(key, value)
        await form.set("address.postCode", "10115")
        await form.set("address.firstLine", "Unter den Linden 1")
        bank.fake.clear_requests()  # the country's refresh above is the form's business; count from here
        await form.set("IBAN", IBAN[:-1] + "1")  # one digit off: the checksum fails
        with pytest.raises(RecipientFormError) as refused:
            form.recipient_body(account_holder_name="Grace Hopper")
    assert refused.value.problems == {"IBAN": "not a valid IBAN (checksum)"}
    assert "IBAN" in str(refused.value)
    assert bank.fake.requests == []
    report_figure(f"recipient forms: bad IBAN refused with {len(bank.fake.requests)} requests")


def test_field_checks_name_what_is_wrong() -> None:
    from wise_async.recipient_forms import AllowedValue, FormField

    country = FormField(
        "c", "Country", "select", True, True, (AllowedValue("DE", "Germany"),), None, None, None, None
    )
    code = FormField("p", "Post code", "text", False, False, None, r"^\d{5}$", 5, 5, None)
    assert country.problem(None) == "required"
    assert country.problem("XX") == "must be one of DE"
    assert code.problem(None) is None
    assert code.problem("123") == "shorter than 5 characters"
    assert code.problem("12a45") == "does not match Wise's pattern"
    assert code.problem("1" * 10_000) == "longer than 5 characters"  # refused before any pattern runs
    assert code.problem("12345") is None
    assert iban_is_valid(IBAN) and iban_is_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_is_valid("GB82WEST12345698765433") and not iban_is_valid("DE89")
