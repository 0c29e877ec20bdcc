"""The pipeline's type rules (codegen/wire_types.py) on a small spec shaped like Wise's deviations.

The spec is generated exactly as ``make generate`` does and exercised in a fresh interpreter, so each rule
is seen in the code it produces: nulls and absent fields read as None in what Wise sends, non-conforming
formats kept as strings, money as Decimal both ways, undeclared 2xx and schema-less successes, unions
chosen by tag or by declared keys, errors that name the field, and request mappings checked strictly.
"""

from __future__ import annotations

import json
import os
import sysconfig
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codegen.generate import generate
from codegen.normalize import Spec

ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = ROOT / "generator-config.yml"
RunPython = Callable[..., Any]  # the run_python fixture (conftest.py)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "ok", "content": {"application/json": {"schema": schema}}}


def _op(operation_id: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"operationId": operation_id, "tags": ["thing"], "responses": responses, **extra}


SPEC: Spec = {
    "openapi": "3.0.3",
    "info": {"title": "deviations", "version": "1"},
    "paths": {
        "/things/{id}": {
            "get": _op(
                "thingGet",
                {"200": _json(_ref("Thing"))},
                parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            )
        },
        "/things": {
            "post": _op(
                "thingCreate",
                {"200": _json(_ref("Thing"))},
                requestBody={"content": {"application/json": {"schema": _ref("ThingRequest")}}},
            )
        },
        "/pets": {"get": _op("petGet", {"200": _json({"oneOf": [_ref("Cat"), _ref("Dog")]})})},
        "/transfers": {"get": _op("transferGet", {"200": _json({"oneOf": [_ref("Plain"), _ref("Origin")]})})},
        "/simulate": {
            "get": _op(
                "simulate",
                {"200": {"description": "ok", "content": {"application/json": {"example": {"a": 1}}}}},
            )
        },
        "/gone": {"delete": _op("gone", {"204": {"description": "gone"}})},
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "at": {"type": "string", "format": "date-time"},
                    "day": {"type": "string", "format": "date"},
                    "amount": {"type": "number"},
                    "count": {"type": "integer"},
                    "status": {"type": "string", "enum": ["A", "B"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "inner": _ref("Inner"),
                    "inners": {"type": "array", "items": _ref("Inner")},
                },
            },
            "Inner": {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"}}},
            "ThingRequest": {
                "type": "object",
                "required": ["amount", "customerTransactionId"],
                "properties": {
                    "amount": {"type": "number"},
                    "customerTransactionId": {"type": "string", "format": "uuid"},
                    "status": {"type": "string", "enum": ["A", "B"]},
                    "note": {"type": "string", "nullable": True},
                },
            },
            "Cat": {
                "type": "object",
                "required": ["kind"],
                "properties": {
                    "kind": {"type": "string", "enum": ["CAT"]},
                    "mood": {"type": "string", "enum": ["CALM"]},
                },
            },
            "Dog": {
                "type": "object",
                "required": ["kind"],
                "properties": {
                    "kind": {"type": "string", "enum": ["DOG"]},
                    "mood": {"type": "string", "enum": ["HAPPY"]},
                },
            },
            "Plain": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "quoteUuid": {"type": "string"}},
            },
            "Origin": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "originator": {"type": "object", "properties": {}}},
            },
        }
    },
}

CHECKS = textwrap.dedent(
    """
    import json
    from decimal import Decimal
    from uuid import UUID

    import httpx
    from wise_api import wire
    from wise_api.api.thing import gone, pet_get, simulate, thing_create, thing_get, transfer_get
    from wise_api.models import Cat, Dog, Origin, Plain, Thing, ThingRequest

    def answer(module, status, body):
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = httpx.Response(status, content=content, request=httpx.Request("GET", "http://x"))
        return module._parse_response(client=None, response=response)

    out = {}
    fields = ("at", "day", "amount", "count", "status", "tags", "inner")
    nulls = Thing.from_dict({"id": "1", **{field: None for field in fields}})
    out["nulls"] = [getattr(nulls, field) for field in fields]
    out["absent"] = Thing.from_dict({"id": "1"}).at
    try:
        Thing.from_dict({"at": None})
    except ValueError as exc:
        out["no_id"] = str(exc)
    raw = b'{"id": "2934720", "at": "2019-04-05T13:18:58Z", "day": "soon", "amount": 100.10,'
    raw += b' "count": 3, "status": "NEW", "inner": {"when": "not a date"}, "extra": {"k": 1.5}}'
    thing = answer(thing_get, 201, raw)
    out["types"] = [
        type(thing).__name__, thing.id, type(thing.at).__name__, thing.day, str(thing.amount),
        type(thing.amount).__name__, type(thing.count).__name__, thing.status.name, thing.status.value,
        thing.inner.when,
    ]
    out["round_trip"] = wire.dumps(thing.to_dict()).decode()
    out["valid_uuid"] = isinstance(Thing.from_dict({"id": "11144c35-9fe8-4c32-b7fd-d05c2a7734bf"}).id, UUID)
    try:
        Thing.from_dict({"id": "1", "inner": {"when": 5}})
    except ValueError as exc:
        out["error"] = str(exc)
    try:
        Thing.from_dict({"id": "1", "inners": [{"when": "2019-04-05"}, {"when": []}]})
    except ValueError as exc:
        out["list_error"] = str(exc)
    try:
        Thing.from_dict([1])
    except ValueError as exc:
        out["not_an_object"] = str(exc)
    # undeclared keys are kept in their order, the payload is left as it was, any mapping reads alike
    payload = {"z": 1, "id": "1", "a": [2], "count": 3, "inners": [{"when": None, "k": "v"}], "m": None}
    kept = Thing.from_dict(payload)
    out["extra"] = [list(kept.additional_properties.items()), kept.count]
    out["extra"].append(kept.inners[0].additional_properties)
    out["extra_copied"] = [kept.additional_properties is not payload, len(payload)]
    from types import MappingProxyType
    out["mapping_proxy"] = Thing.from_dict(MappingProxyType(payload)) == kept
    out["pairs"] = Thing.from_dict([("id", "1"), ("q", 1)]).additional_properties
    out["declared_only"] = Thing.from_dict({"id": "1", "count": None}).additional_properties
    out["simulate"] = repr(answer(simulate, 200, b'{"a": 1.25, "b": [1]}'))
    out["simulate_201"] = repr(answer(simulate, 201, b'[1]'))
    out["gone_empty"] = answer(gone, 204, b"")
    out["gone_body"] = answer(gone, 200, b'{"state": "gone"}')
    cat = answer(pet_get, 200, {"kind": "CAT", "mood": "HAPPY"})
    dog = answer(pet_get, 200, {"kind": "DOG", "mood": "NEW"})
    out["union_tag"] = [type(cat).__name__, cat.mood.name, cat.mood.value, type(dog).__name__, dog.mood.name]
    out["union_keys"] = [type(answer(transfer_get, 200, body)).__name__
                         for body in ({"id": 1, "originator": {}}, {"id": 1, "quoteUuid": "q"}, {"id": 1})]
    request = ThingRequest(amount=Decimal("100.10"))
    kwargs = thing_create._get_kwargs(body=request)
    out["request"] = [kwargs["content"].decode(), kwargs["headers"]["Content-Type"], "json" in kwargs]
    out["request_null"] = thing_create._get_kwargs(body=ThingRequest(amount=1, note=None))["content"].decode()
    as_string = ThingRequest(amount=1, customer_transaction_id="11144c35-9fe8-4c32-b7fd-d05c2a7734bf")
    out["request_uuid_string"] = thing_create._get_kwargs(body=as_string)["content"].decode()
    import attrs
    given_string = ThingRequest(amount=1, status="B")
    out["request_enum_string"] = [
        type(given_string.status).__name__, given_string.status.name,
        thing_create._get_kwargs(body=given_string)["content"].decode(),
        ThingRequest(amount=1, status=given_string.status) == given_string,
        sorted(f"{m.__name__}.{a.name}" for m in (Thing, ThingRequest) for a in attrs.fields(m)
               if a.converter),
    ]
    try:
        wire.check_model(ThingRequest(amount=1, status="NEW"))
    except ValueError as exc:
        out["request_enum_unknown"] = str(exc)
    mapped = thing_create._body({"amount": Decimal("1.5"), "status": "A"})
    out["mapping"] = [type(mapped).__name__, str(mapped.amount), mapped.status.value]
    out["mapping_errors"] = []
    for body in (
        {"amount": 1, "bogus": 1},
        {"amount": [1]},
        {"amount": 1, "status": "NEW"},
        {"status": "A"},
        {"amount": 0.1 + 0.2},
        {"amount": 1, "customer_transaction_id": "x"},
        {"amount": "1.5x"},
    ):
        try:
            thing_create._body(body)
        except ValueError as exc:
            out["mapping_errors"].append(str(exc))
    print(json.dumps(out, default=str))
    """
)


@pytest.fixture(scope="module")
def small_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wire")
    spec_path = out / "spec.json"
    spec_path.write_text(json.dumps(SPEC), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:  # the generator's formatter hooks run this venv's ruff
        mp.setenv("PATH", os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")]))
        generate(spec_path, out, config_file=CONFIG_FILE, normalized_path=None)
    return out


@pytest.fixture(scope="module")
def results(small_package: Path, run_python: RunPython) -> dict[str, Any]:
    found: dict[str, Any] = run_python(CHECKS, small_package)
    return found


def test_null_and_absent_optional_fields_read_as_none(results: dict[str, Any]) -> None:
    assert results["nulls"] == [None] * 7
    assert results["absent"] is None


def test_a_returned_resource_has_its_id_and_a_request_uuid_takes_a_string(results: dict[str, Any]) -> None:
    # thingGet returns Thing: its id is typed present, and a Thing without one is refused by name
    assert results["no_id"].startswith("Thing.id: expected UUID | str, got nothing (the field is missing)")
    assert results["request_uuid_string"] == (
        '{"amount":1,"customerTransactionId":"11144c35-9fe8-4c32-b7fd-d05c2a7734bf"}'
    )


def test_a_request_enum_field_takes_its_value_as_a_string_and_holds_the_member(
    results: dict[str, Any],
) -> None:
    enum_class, name, sent, same, converted = results["request_enum_string"]
    assert (enum_class, name, sent, same) == ("ThingRequestStatus", "B", '{"amount":1,"status":"B"}', True)
    assert converted == ["ThingRequest.status"]  # models Wise sends keep their lenient parse, no converter
    # a string the enum does not have is kept, and refused before sending with its path (as in a mapping)
    assert (
        results["request_enum_unknown"]
        == "ThingRequest.status: expected one of 'A', 'B', got 'NEW', not among them"
    )


def test_undeclared_2xx_parses_with_the_declared_schema_and_formats_keep_strings(
    results: dict[str, Any],
) -> None:
    kind, id_, at, day, amount, amount_type, count_type, status_name, status_value, when = results["types"]
    assert kind == "Thing"  # 201 where the spec declares 200
    assert id_ == "2934720" and at == "datetime" and day == "soon" and when == "not a date"
    assert (amount, amount_type, count_type) == ("100.10", "Decimal", "int")
    assert (status_name, status_value) == ("UNKNOWN", "NEW")
    assert results["valid_uuid"] is True


def test_round_trip_keeps_every_field_wise_sent_and_money_exact(results: dict[str, Any]) -> None:
    assert json.loads(results["round_trip"]) == {
        "id": "2934720",
        "at": "2019-04-05T13:18:58+00:00",
        "day": "soon",
        "amount": 100.1,
        "count": 3,
        "status": "NEW",
        "inner": {"when": "not a date"},
        "extra": {"k": 1.5},
    }
    assert '"amount":100.10' in results["round_trip"]  # the literal Wise sent, not 100.1


def test_a_mistyped_field_is_named_with_expected_and_sent_types(results: dict[str, Any]) -> None:
    message = results["error"]
    assert message.startswith("Thing.inner.when: expected datetime.datetime | str | None, got an integer")
    assert "(field Inner.when)" in message and "5" not in message.split("got")[1].replace("an integer", "")


def test_a_mistyped_list_item_and_a_payload_that_is_not_an_object_are_named(results: dict[str, Any]) -> None:
    assert results["list_error"].startswith(
        "Thing.inners.when: expected datetime.datetime | str | None, got an array"
    )
    assert results["not_an_object"].startswith("Thing: expected an object, got an array")


def test_undeclared_keys_are_kept_in_order_and_the_payload_is_not_changed(results: dict[str, Any]) -> None:
    assert results["extra"] == [[["z", 1], ["a", [2]], ["m", None]], 3, {"k": "v"}]
    assert results["extra_copied"] == [True, 6]
    assert results["mapping_proxy"] is True
    assert results["pairs"] == {"q": 1}
    assert results["declared_only"] == {}


def test_schemaless_success_returns_decoded_json_and_no_content_stays_none(results: dict[str, Any]) -> None:
    assert results["simulate"] == "{'a': Decimal('1.25'), 'b': [1]}"
    assert results["simulate_201"] == "[1]"
    assert results["gone_empty"] is None
    assert results["gone_body"] == {"state": "gone"}


def test_unions_are_chosen_by_tag_or_declared_keys_and_enums_stay_lenient(results: dict[str, Any]) -> None:
    # a "HAPPY" cat no longer turns into a dog: the tag decides, the mood becomes UNKNOWN
    assert results["union_tag"] == ["Cat", "UNKNOWN", "HAPPY", "Dog", "UNKNOWN"]
    assert results["union_keys"] == ["Origin", "Plain", "Plain"]


def test_requests_serialize_decimal_exactly_and_sdk_filled_keys_are_optional(results: dict[str, Any]) -> None:
    # customerTransactionId is required by the spec but optional in the model: the SDK fills it
    assert results["request"] == ['{"amount":100.10}', "application/json", False]
    assert results["request_null"] == '{"amount":1,"note":null}'  # requests keep null apart from absent


def test_request_mappings_are_checked_against_their_model(results: dict[str, Any]) -> None:
    assert results["mapping"] == ["ThingRequest", "1.5", "A"]
    bogus, mistyped, enum, missing, floating, snake, not_decimal = results["mapping_errors"]
    assert "undeclared keys bogus" in bogus
    assert mistyped == "ThingRequest.amount: expected Decimal | int | str, got an array"
    assert enum == "ThingRequest.status: expected one of 'A', 'B', got 'NEW', not among them"
    assert missing == "ThingRequest.amount: expected Decimal | int | str, got nothing (the field is missing)"
    assert floating.startswith("ThingRequest.amount: a float (0.30000000000000004) cannot carry an amount")
    assert 'write Decimal("0.3")' in floating
    assert "customer_transaction_id (a snake_case key: Wise's name is 'customerTransactionId')" in snake
    assert (
        not_decimal
        == "ThingRequest.amount: expected Decimal | int | str, got a string that is not a decimal number"
    )
