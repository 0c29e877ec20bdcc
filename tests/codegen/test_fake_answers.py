"""FakeWise's answers (codegen/fake_answers.py) come from the spec, without its prose."""

from __future__ import annotations

import copy
from typing import Any

from codegen import fake_answers, webhook_events
from codegen.normalize import Spec, iter_operations, normalize


def test_every_operation_has_an_answer(normalized_bundle: tuple[Spec, Any]) -> None:
    spec, _ = normalized_bundle
    answers, webhooks, schemas = fake_answers.collect(spec)
    assert set(answers) == {op["operationId"] for _, _, op in iter_operations(spec)}
    for answer in answers.values():
        assert 200 <= answer["status"] < 300
        if answer["media_type"] and "json" in answer["media_type"] and answer["status"] != 204:
            assert answer["answer"] is not None, answer["path"]
    namespace: dict[str, Any] = {}
    exec(compile(fake_answers.render(answers, webhooks, schemas), "fake_answers.py", "exec"), namespace)
    assert namespace["ANSWERS"] == answers and namespace["WEBHOOKS"] == webhooks


def test_schemas_keep_what_validation_needs_and_drop_the_prose() -> None:
    schema = {
        "type": "object",
        "title": "T",
        "description": "prose",
        "required": ["description"],
        "properties": {"description": {"type": "string", "description": "prose", "example": "x"}},
        "x-extension": 1,
    }
    assert fake_answers.strip_prose(schema) == {
        "type": "object",
        "required": ["description"],
        "properties": {"description": {"type": "string"}},
    }


def test_a_new_operation_is_answered_from_its_schema(raw_bundle: Spec) -> None:
    spec = copy.deepcopy(raw_bundle)
    spec["paths"]["/v1/widgets/{widgetId}"] = {
        "get": {
            "operationId": "widgetGet",
            "parameters": [
                {"name": "widgetId", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "createdAt": {"type": "string", "format": "date-time"},
                                    "tags": {
                                        "type": "array",
                                        "items": {"type": "string", "enum": ["A", "B"]},
                                    },
                                },
                            }
                        }
                    },
                }
            },
        }
    }
    normalize(spec)
    answers, _, _ = fake_answers.collect(spec)
    answer = answers["widgetGet"]
    assert answer["path_ints"] == ["widgetId"] and answer["method"] == "GET"
    assert answer["answer"] == {"id": 1, "createdAt": "2025-01-02T03:04:05Z", "tags": ["A"]}


def test_every_webhook_event_version_has_a_sample_and_its_schema(normalized_bundle: tuple[Spec, Any]) -> None:
    spec, _ = normalized_bundle
    _, webhooks, schemas = fake_answers.collect(spec)
    listed = {(event, version) for event, version, _ in webhook_events.event_versions(spec)}
    assert {(e, v) for e, versions in webhooks.items() for v in versions} == listed
    assert ("transfers#state-change", "4.0.0") in listed
    for versions in webhooks.values():
        for event in versions.values():
            assert isinstance(event["data"], dict) and event["data"]
            assert event["schema"]["$ref"].rsplit("/", 1)[-1] in schemas


def test_a_new_webhook_event_gets_a_sample_from_its_schema(raw_bundle: Spec) -> None:
    spec = copy.deepcopy(raw_bundle)
    spec["components"]["schemas"]["widget-created-v1"] = {
        "type": "object",
        "properties": {
            "schema_version": {"type": "string", "enum": ["1.0.0"]},
            "data": {"type": "object", "properties": {"widget_id": {"type": "integer"}}},
        },
    }
    spec["webhooks"]["widgets#created"] = {
        "post": {
            "requestBody": {
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/widget-created-v1"}}
                }
            },
            "responses": {"200": {"description": "ok"}},
        }
    }
    normalize(spec)
    _, webhooks, schemas = fake_answers.collect(spec)
    assert webhooks["widgets#created"]["1.0.0"]["data"] == {"widget_id": 1}
    assert "widget-created-v1" in schemas
