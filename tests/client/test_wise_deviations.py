"""What Wise really sends, against the generated client: codegen/wire_types.py rules on the real bundle.

A table of deviations (from Wise's public guides and from what other projects recorded) parsed the way the
facade parses them; every model Wise sends with every optional field null; every operation answered with
each 2xx code; the spec's own examples round-tripped; money exact both ways; bodies as mappings.
"""

from __future__ import annotations

import ast
import datetime
import enum
import importlib
import importlib.resources  # a submodule: not loaded by `import importlib` on Python 3.10
import json
import types
import typing
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs
import httpx
import pytest
import wise_api.models
from type_codes import members
from wise_api import wire
from wise_api.operations import OPERATIONS

from wise_async import APIResponseValidationError, InvalidRequestError, WiseClient

SURFACE = {
    line.split(": ", 1)[0]: line.split(": ", 1)[1]
    for line in (importlib.resources.files("wise_api") / "surface.lock").read_text().splitlines()
    if ": " in line and not line.startswith("#")
}
SUCCESS = {
    key[3:]: value.rsplit(" response=", 1)[1].split(" ", 1)[0]
    for key, value in SURFACE.items()
    if key.startswith("op ")
}
JSON_BODY = "dict[str,Any]|list[Any]|None"


def answer(operation_id: str, status: int, body: Any) -> Any:
    """What the generated parser makes of ``body`` answered with ``status`` (as the facade calls it)."""
    (op,) = [o for o in OPERATIONS if o.operation_id == operation_id]
    module = importlib.import_module(op.module)
    content = body if isinstance(body, bytes) else wire.dumps(body)
    response = httpx.Response(status, content=content, request=httpx.Request(op.method, "https://wise.test"))
    return module._parse_response(client=None, response=response)


# --- the deviations table --------------------------------------------------------------------------------

DEVIATIONS = [
    # (what Wise does, operationId, status, body, check on the parsed result)
    (
        "recipient confirmations null (POST /v1/accounts)",
        "recipientCreate",
        200,
        {"id": 40000000, "currency": "GBP", "confirmations": None, "accountHolderName": "Ann"},
        lambda r: r.confirmations is None and r.id == 40000000,
    ),
    (
        "recipient confirmations null (GET /v1/accounts/{id})",
        "recipientGetV1",
        200,
        {"id": 40000000, "currency": "GBP", "confirmations": None},
        lambda r: r.confirmations is None,
    ),
    (
        "estimatedDelivery null on a disabled same-currency payment option",
        "quoteCreate",
        200,
        {
            "id": "11144c35-9fe8-4c32-b7fd-d05c2a7734bf",
            "rate": 1,
            "sourceAmount": Decimal("100.10"),
            "paymentOptions": [{"disabled": True, "estimatedDelivery": None, "payIn": "BALANCE"}],
        },
        lambda r: r.payment_options[0].estimated_delivery is None and r.source_amount == Decimal("100.10"),
    ),
    (
        "occupations null in address details",
        "addressCreate",
        200,
        {"id": 1, "profile": 2, "details": {"country": "GB", "occupations": None}},
        lambda r: r.details.occupations is None and r.details.country == "GB",
    ),
    (
        "duration null in comparison delivery estimations",
        "comparisonGetV3",
        200,
        {
            "providers": [
                {"id": 1, "quotes": [{"rate": Decimal("1.1"), "deliveryEstimation": {"duration": None}}]}
            ]
        },
        lambda r: r.providers[0].quotes[0].delivery_estimation.duration is None,
    ),
    (
        "transfer funding answers 201 (the spec declares 200)",
        "transferFund",
        201,
        {"type": "BALANCE", "status": "COMPLETED", "errorCode": None},
        lambda r: type(r).__name__ == "TransferFundResponse200" and r.status.value == "COMPLETED",
    ),
    (
        "director creation answers 201",
        "profileDirectorCreate",
        201,
        [
            {
                "id": 10,
                "firstName": "Ann",
                "lastName": "Lee",
                "dateOfBirth": "1980-01-01",
                "countryOfResidence": "GB",
            }
        ],
        lambda r: type(r[0]).__name__ == "Director" and r[0].first_name == "Ann",
    ),
    (
        "UBO creation answers 201",
        "profileUboCreate",
        201,
        [{"id": "a1b2", "name": "Ann Lee", "ownershipPercentage": 25}],
        lambda r: type(r[0]).__name__ == "Ubo" and r[0].ownership_percentage == 25,
    ),
    (
        "simulated transfer state: a 200 with an example but no schema",
        "simulationTransferStateChange",
        200,
        {"id": 15574445, "status": "processing", "targetValue": Decimal("895.32")},
        lambda r: r == {"id": 15574445, "status": "processing", "targetValue": Decimal("895.32")},
    ),
    (
        "a format: uuid field holding an older numeric id",
        "quoteCreate",
        200,
        {"id": "2934720", "user": 55},
        lambda r: r.id == "2934720" and r.user == 55,
    ),
    (
        "an unknown enum value inside a union member (a new business role)",
        "profileGet",
        200,
        {"type": "BUSINESS", "id": 2, "companyRole": "TRUSTEE"},
        lambda r: type(r).__name__ == "BusinessProfile" and r.company_role.value == "TRUSTEE",
    ),
]


@pytest.mark.parametrize(
    ("case", "operation_id", "status", "body", "check"), DEVIATIONS, ids=[d[0] for d in DEVIATIONS]
)
def test_what_wise_really_sends_parses(
    case: str, operation_id: str, status: int, body: Any, check: Any
) -> None:
    parsed = answer(operation_id, status, body)
    assert parsed is not None, case
    assert check(parsed), parsed


def test_a_mistyped_field_names_its_path_and_types_but_not_the_value() -> None:
    body = {"id": "2934720", "paymentOptions": [{"estimatedDelivery": 1712345678}]}
    with pytest.raises(ValueError) as caught:
        answer("quoteCreate", 200, body)
    message = str(caught.value)
    assert message.startswith(
        "Quote.paymentOptions.estimatedDelivery: expected datetime.datetime | str | None"
    )
    assert "got an integer" in message and "QuotePaymentOptionsItem.estimatedDelivery" in message
    assert "1712345678" not in message


# --- every model Wise sends, every optional field null -----------------------------------------------------


def _models() -> list[type[Any]]:
    found = []
    for name in wise_api.models.__all__:
        cls = getattr(wise_api.models, name)
        if attrs.has(cls):
            found.append(cls)
    return found


def _is_sent(cls: type[Any]) -> bool:
    """Models Wise sends default their optional fields to None (requests keep UNSET)."""
    optional = [f for f in attrs.fields(cls) if f.init and f.default is not attrs.NOTHING]
    return bool(optional) and all(f.default is None for f in optional)


def _sample(type_code: str, depth: int = 0) -> Any:
    """A minimal JSON value of a declared type (required fields only, recursively)."""
    member = next(m for m in members(type_code) if m not in ("None", "Unset"))
    if member.startswith("list["):
        return []
    if member.startswith("Literal["):  # an OpenAPI 3.1 ``const``: its one value (the first, if several)
        literal = ast.parse(member, mode="eval").body
        assert isinstance(literal, ast.Subscript), member
        values = literal.slice
        return ast.literal_eval(values.elts[0] if isinstance(values, ast.Tuple) else values)
    simple = {
        "str": "x",
        "int": 1,
        "bool": True,
        "Decimal": 1.5,
        "datetime.datetime": "2024-01-02T03:04:05Z",
        "datetime.date": "2024-01-02",
        "UUID": "11144c35-9fe8-4c32-b7fd-d05c2a7734bf",
        "Any": {},
    }
    if member in simple or member.startswith("dict["):
        return simple.get(member, {})
    cls = getattr(wise_api.models, member)
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return next(iter(cls)).value
    return _required_only(cls, depth + 1)


def test_a_const_field_gets_its_value() -> None:
    """OpenAPI 3.1 ``const`` fields are ``Literal[...]`` (none in today's bundle; a release may bring one)."""
    assert _sample("Literal['CAPACITY']") == "CAPACITY"
    assert _sample("Literal[2, 3] | None") == 2
    assert _sample("Literal['a, b', 'c'] | Unset") == "a, b"


def _field_types(cls: type[Any]) -> dict[str, str]:
    types_by_name: dict[str, str] = importlib.import_module(cls.__module__)._FIELD_TYPES
    return types_by_name


def _required_only(cls: type[Any], depth: int = 0) -> dict[str, Any]:
    assert depth < 12, cls
    required = {f.name for f in attrs.fields(cls) if f.init and f.default is attrs.NOTHING}
    json_names = _json_names(cls)
    return {json_names[n]: _sample(_field_types(cls)[json_names[n]], depth) for n in required}


def _json_names(cls: type[Any]) -> dict[str, str]:
    names: dict[str, str] = importlib.import_module(cls.__module__)._JSON_NAMES
    return names


SENT_MODELS = [cls for cls in _models() if _is_sent(cls)]


def test_the_sent_models_are_the_ones_wise_sends() -> None:
    names = {cls.__name__ for cls in SENT_MODELS}
    assert {
        "Quote",
        "StandardTransfer",
        "RecipientAccount",
        "BusinessProfile",
        "QuotePaymentOptionsItem",
    } <= names
    assert not names & {"TransferCreateBody", "QuoteCreateBody", "RecipientCreateRequest"}
    assert len(SENT_MODELS) > 350


@pytest.mark.parametrize("cls", SENT_MODELS, ids=lambda c: c.__name__)
def test_every_optional_field_null_parses_as_none(cls: type[Any]) -> None:
    payload = _required_only(cls)
    json_names = _json_names(cls)
    optional = [f.name for f in attrs.fields(cls) if f.init and f.default is None]
    payload.update({json_names[name]: None for name in optional})
    parsed = cls.from_dict(wire.loads(json.dumps(payload)))
    assert all(getattr(parsed, name) is None for name in optional)
    assert parsed.to_dict() == wire.loads(json.dumps(_required_only(cls)))


PLAIN_REQUIRED = [
    (cls, field.name)
    for cls in _models()
    for field in attrs.fields(cls)
    if field.init
    and field.default is attrs.NOTHING
    and _field_types(cls)[_json_names(cls)[field.name]] in ("int", "str", "bool")
]


def test_there_are_required_plain_fields_to_check() -> None:
    names = {f"{cls.__name__}.{name}" for cls, name in PLAIN_REQUIRED}
    assert {"StandardTransfer.id", "PersonalProfile.id", "RecipientAccount.id"} <= names


@pytest.mark.parametrize(("cls", "name"), PLAIN_REQUIRED, ids=lambda v: getattr(v, "__name__", v))
def test_a_required_field_sent_null_is_an_error_naming_it_not_a_none_typed_as_int(
    cls: type[Any], name: str
) -> None:
    json_name = _json_names(cls)[name]
    payload = {**_required_only(cls), json_name: None}
    with pytest.raises(wire.ModelFieldError) as caught:
        cls.from_dict(wire.loads(json.dumps(payload)))
    assert caught.value.model_field == f"{cls.__name__}.{json_name}"
    assert caught.value.sent == "null"


# --- every operation, every 2xx ----------------------------------------------------------------------------


def _matches(value: Any, type_code: str) -> bool:
    if type_code == JSON_BODY:
        return value is None or isinstance(value, (dict, list))
    names = {"list": list, "dict": dict, "str": str, "int": int, "bool": bool, "Any": Any, "Decimal": Decimal}
    names |= {"UUID": UUID, "datetime": datetime, "None": None}
    kind = eval(type_code, {"__builtins__": {}}, _Names(names))
    return _isinstance(value, kind)


class _Names(dict[str, Any]):
    def __missing__(self, key: str) -> Any:
        return getattr(wise_api.models, key) if key != "File" else bytes


def _isinstance(value: Any, kind: Any) -> bool:
    if kind is Any:
        return True
    if isinstance(kind, types.UnionType):
        return any(_isinstance(value, k) for k in typing.get_args(kind))
    if typing.get_origin(kind) is list:
        return isinstance(value, list)
    if typing.get_origin(kind) is dict:
        return isinstance(value, dict)
    return isinstance(value, kind)


def _body_for(type_code: str) -> Any:
    if type_code == JSON_BODY:
        return {"anything": [1, Decimal("2.5")]}
    return _sample(type_code.replace(",", ", "))


TYPED = [op for op in OPERATIONS if SUCCESS[op.operation_id] not in ("-", "File")]


@pytest.mark.parametrize("op", TYPED, ids=lambda o: o.operation_id)
def test_every_operation_answered_with_any_2xx_parses(op: Any) -> None:
    declared = members(SUCCESS[op.operation_id], ",")[0]
    body = _body_for(declared)
    for status in (200, 201, 202, 203, 207):
        parsed = answer(op.operation_id, status, body)
        assert parsed is not None, (op.operation_id, status)
        assert any(_matches(parsed, kind) for kind in members(SUCCESS[op.operation_id], ",")), status
    if declared == JSON_BODY:  # no schema: a success without content is a clean "no content"
        assert answer(op.operation_id, 204, b"") is None


# --- round trip of the spec's own examples -----------------------------------------------------------------


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] in "T ":
        parsed = wire.tolerant_datetime(value)
        return parsed if not isinstance(parsed, str) else value
    return value


def _examples() -> list[tuple[str, int, Any]]:
    from tests.contract.arguments import spec_operation

    found = []
    for op in TYPED:
        if SUCCESS[op.operation_id] == JSON_BODY:
            continue
        operation = spec_operation(op.method, op.path)[0]
        for code, response in operation.get("responses", {}).items():
            if not code.startswith("2"):
                continue
            media = response.get("content", {}).get("application/json", {})
            examples = [media["example"]] if "example" in media else []
            examples += [e["value"] for e in media.get("examples", {}).values() if "value" in e]
            found += [(op.operation_id, int(code), example) for example in examples]
    return found


EXAMPLES = _examples()


def test_there_are_examples_to_round_trip() -> None:
    assert len(EXAMPLES) > 60


@pytest.mark.parametrize(("operation_id", "status", "example"), EXAMPLES, ids=lambda x: str(x)[:40])
def test_round_trip_keeps_every_field_wise_sent(operation_id: str, status: int, example: Any) -> None:
    exact = wire.loads(json.dumps(example))
    parsed = answer(operation_id, status, exact)
    items = parsed if isinstance(parsed, list) else [parsed]
    dumped = [item.to_dict() if hasattr(item, "to_dict") else item for item in items]
    again = dumped if isinstance(parsed, list) else dumped[0]
    assert _without_nulls(wire.loads(wire.dumps(again))) == _without_nulls(exact)


# --- money and bodies through the facade ------------------------------------------------------------


async def test_money_reaches_wise_exactly_and_comes_back_as_decimal() -> None:
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        quote = {"id": "11144c35-9fe8-4c32-b7fd-d05c2a7734bf", "sourceAmount": 100.10, "rate": 1.30445}
        return httpx.Response(200, content=json.dumps(quote).replace("100.1", "100.10").encode())

    async with WiseClient(personal_token="t", transport=httpx.MockTransport(handler)) as wise:
        quote = await wise.quotes.create(
            1, body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": Decimal("100.10")}
        )
    assert b'"sourceAmount":100.10' in sent[0]
    assert quote.source_amount == Decimal("100.10") and str(quote.source_amount) == "100.10"
    assert quote.rate == Decimal("1.30445") and isinstance(quote.id, UUID)


async def test_a_transfer_body_as_a_mapping_gets_its_idempotency_key_and_keeps_money_exact() -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(wire.loads(request.content))
        return httpx.Response(200, json={"id": 7, "status": "incoming_payment_waiting"})

    body = {
        "targetAccount": 1,
        "quoteUuid": "11144c35-9fe8-4c32-b7fd-d05c2a7734bf",
        "details": {"reference": "invoice 42"},
    }
    async with WiseClient(personal_token="t", transport=httpx.MockTransport(handler)) as wise:
        transfer = await wise.transfers.create(body=body)
    assert transfer.id == 7
    assert UUID(sent[0]["customerTransactionId"])  # filled by the SDK, not required of the caller
    assert sent[0]["details"] == {"reference": "invoice 42"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"quoteUuid": "11144c35-9fe8-4c32-b7fd-d05c2a7734bf"}, "targetAccount: expected int, got nothing"),
        ({"target_account": 1, "quoteUuid": "11144c35-9fe8-4c32-b7fd-d05c2a7734bf"}, "targetAccount"),
        ({"targetAccount": 1, "quoteUuid": "not-a-uuid"}, "quoteUuid: expected UUID"),
        (
            {"targetAccount": None, "quoteUuid": "11144c35-9fe8-4c32-b7fd-d05c2a7734bf"},
            "targetAccount: expected int, got null",
        ),
        ({"targetAccount": 1, "quoteUuid": "11144c35-9fe8-4c32-b7fd-d05c2a7734bf", "amount": 1}, "amount"),
    ],
)
async def test_a_mapping_body_that_does_not_fit_is_refused_before_sending(body: Any, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    async with WiseClient(personal_token="t", transport=httpx.MockTransport(handler)) as wise:
        with pytest.raises(InvalidRequestError, match=message) as caught:
            await wise.transfers.create(body=body)
    assert isinstance(caught.value, ValueError)


async def test_the_facade_reports_a_mistyped_field_by_path_as_a_validation_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "2934720", "paymentOptions": [{"estimatedDelivery": [1]}]})

    async with WiseClient(personal_token="t", transport=httpx.MockTransport(handler)) as wise:
        with pytest.raises(APIResponseValidationError) as caught:
            await wise.quotes.create(1, body={"sourceCurrency": "GBP", "targetCurrency": "EUR"})
    message = str(caught.value)
    assert "quoteCreate" in message and "Quote.paymentOptions.estimatedDelivery" in message
    assert "expected datetime.datetime | str | None, got an array" in message
