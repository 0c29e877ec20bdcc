"""The normalization fixes the contract suite relies on (codegen/normalize.py), on small documents."""

from __future__ import annotations

from typing import Any

from codegen.normalize import conforms, drop_invalid_examples, relax_ambiguous_one_of


def _spec(schema: dict[str, Any], **media: Any) -> dict[str, Any]:
    content = {"application/json": {"schema": schema, **media}}
    operation = {"operationId": "xGet", "responses": {"200": {"content": content}}}
    return {"paths": {"/x": {"get": operation}}, "components": {}}


def _media(spec: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = spec["paths"]["/x"]["get"]["responses"]["200"]["content"]["application/json"]
    return media


def test_date_time_needs_a_time_zone() -> None:
    schema = {"type": "string", "format": "date-time"}
    assert conforms("2024-09-03T16:22:02.257Z", schema, {})
    assert conforms("2024-09-03 16:22:02+01:00", schema, {})
    assert not conforms("2024-09-03T16:22:02.257725", schema, {})


def test_invalid_examples_are_dropped_and_valid_ones_kept() -> None:
    schema = {
        "type": "object",
        "properties": {
            "at": {"type": "string", "format": "date-time", "example": "2017-03-14 15:25:51"},
            "id": {"type": "string", "format": "uuid", "example": "bd244a95-dcf8-4c31-aac8-bf5e2f3e54c0"},
            "name": {"type": "string", "example": None},
        },
    }
    examples = {
        "good": {"value": {"id": "bd244a95-dcf8-4c31-aac8-bf5e2f3e54c0"}},
        "bad": {"value": {"name": 1}},
    }
    spec = _spec(schema, example={"at": "2017-03-14"}, examples=examples)

    places: list[str] = []
    assert drop_invalid_examples(spec, places) == 4
    assert (
        places
        == [  # named by where a reader finds them: under an operation, by its operationId
            "components/schemas/X/properties/at/example",
            "xGet responses/200/content/application/json/schema/properties/at/example",
            "xGet responses/200/content/application/json/schema/properties/name/example",
            "xGet responses/200/content/application/json/example",
            "xGet responses/200/content/application/json/examples/bad",
        ][1:]
    )
    media = _media(spec)
    assert "example" not in media
    assert list(media["examples"]) == ["good"]
    assert "example" not in schema["properties"]["at"]
    assert "example" not in schema["properties"]["name"]
    assert schema["properties"]["id"]["example"] == "bd244a95-dcf8-4c31-aac8-bf5e2f3e54c0"


def test_one_of_whose_examples_match_several_branches_becomes_any_of() -> None:
    personal = {"type": "object", "properties": {"purpose": {"type": "string"}}, "example": {"purpose": "x"}}
    business = {"type": "object", "properties": {"useCase": {"type": "array"}}, "example": {"useCase": []}}
    overlapping = {"oneOf": [personal, business]}
    exclusive = {
        "oneOf": [
            {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"const": "A"}},
                "example": {"type": "A"},
            },
            {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"const": "B"}},
                "example": {"type": "B"},
            },
        ]
    }
    spec = _spec({"type": "object", "properties": {"a": overlapping, "b": exclusive}})

    assert relax_ambiguous_one_of(spec) == 1
    assert overlapping == {"anyOf": [personal, business]}
    assert "oneOf" in exclusive


def test_places_outside_operations_name_their_event_or_keys() -> None:
    bad = {"type": "integer", "example": "one"}
    spec = {
        "paths": {"/x": {"parameters": [{"name": "p", "in": "query", "schema": dict(bad)}]}},
        "webhooks": {
            "a#b": {"post": {"requestBody": {"content": {"application/json": {"schema": dict(bad)}}}}}
        },
        "components": {"schemas": {"N": dict(bad)}},
    }
    places: list[str] = []
    assert drop_invalid_examples(spec, places) == 3
    assert places == [
        "components/schemas/N/example",
        "/x parameters/0/schema/example",
        "webhook a#b requestBody/content/application/json/schema/example",
    ]
