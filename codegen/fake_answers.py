"""FakeWise's spec-driven answers, rendered from the normalized spec into ``wise_api.fake_answers``.

For every operation: what a request must carry (required query parameters, integer path parameters,
the body's schema) and the answer (the first 2xx status, its media type, and a body taken from the
spec's examples or, where it has none, built from the response schema). ``wise_async.testing`` serves
these for every operation that has no stateful route, so a new operation works against the fake on
the day Wise publishes it. Schemas are kept without their prose (descriptions, titles, examples).
"""

from __future__ import annotations

import json
import pprint
from pathlib import Path
from typing import Any

from codegen.normalize import Spec, iter_operations
from codegen.webhook_events import event_versions

MODULE = "fake_answers.py"
MAX_DEPTH = 8
PROSE_KEYS = frozenset({"description", "summary", "title", "example", "examples", "externalDocs", "x-title"})
# Fixed values per string format, valid for the generated parsers.
FORMAT_VALUES: dict[str, str] = {
    "uuid": "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    "date-time": "2025-01-02T03:04:05Z",
    "date": "2025-01-02",
    "time": "03:04:05",
    "email": "ada@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
}
SECURITY_WORDS = {
    "UserToken": "user",
    "PersonalToken": "user",
    "ClientCredentialsToken": "client",
    "BasicAuth": "basic",
}


def _resolve(spec: Spec, node: Any) -> Any:
    for _ in range(32):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            break
        node = _pointer(spec, node["$ref"])
    return node


def _pointer(spec: Spec, ref: str) -> Any:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
    return node


def _example_of(spec: Spec, node: dict[str, Any]) -> tuple[bool, Any]:
    examples = node.get("examples")
    if isinstance(examples, dict) and examples:
        first = _resolve(spec, next(iter(examples.values())))
        if isinstance(first, dict) and "value" in first:
            return True, first["value"]
    if isinstance(examples, list) and examples:
        return True, examples[0]
    if "example" in node:
        return True, node["example"]
    return False, None


def synthesize(spec: Spec, schema: Any, depth: int = 0) -> Any:
    """A value for ``schema``: its own example, else one built from its shape."""
    schema = _resolve(spec, schema)
    if not isinstance(schema, dict):
        return None
    found, value = _example_of(spec, schema)
    if found:
        return value
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), schema["enum"][0])
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            part_value = synthesize(spec, part, depth + 1)
            if isinstance(part_value, dict):
                merged.update(part_value)
        return merged
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            branch = next((b for b in schema[key] if _resolve(spec, b).get("type") != "null"), schema[key][0])
            value = synthesize(spec, branch, depth + 1)
            discriminator = schema.get("discriminator", {})
            if isinstance(value, dict) and discriminator.get("propertyName"):
                mapping = discriminator.get("mapping", {})
                ref = branch.get("$ref") if isinstance(branch, dict) else None
                name = next((k for k, v in mapping.items() if v == ref), None)
                if name is not None:
                    value[discriminator["propertyName"]] = name
            return value
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else None
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        names = list(properties) if depth < MAX_DEPTH else [n for n in properties if n in required]
        return {name: synthesize(spec, properties[name], depth + 1) for name in names}
    if kind == "array":
        return [] if depth >= MAX_DEPTH else [synthesize(spec, schema.get("items", {}), depth + 1)]
    if kind == "string":
        return FORMAT_VALUES.get(schema.get("format", ""), "string")
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return schema.get("minimum", 1.5)
    if kind == "boolean":
        return True
    return None


SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
SCHEMA_LISTS = frozenset({"allOf", "oneOf", "anyOf", "prefixItems"})
SCHEMA_VALUES = frozenset({"items", "additionalProperties", "not", "contains", "propertyNames"})


def strip_prose(schema: Any) -> Any:
    """The schema without descriptions, titles or examples: only what validation needs."""
    if not isinstance(schema, dict):
        return schema
    kept: dict[str, Any] = {}
    for key, value in schema.items():
        if key in PROSE_KEYS or key.startswith("x-"):
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            kept[key] = {name: strip_prose(sub) for name, sub in value.items()}
        elif key in SCHEMA_LISTS and isinstance(value, list):
            kept[key] = [strip_prose(sub) for sub in value]
        elif key in SCHEMA_VALUES:
            kept[key] = strip_prose(value)
        else:
            kept[key] = value
    return kept


def _refs_in(node: Any, found: set[str], spec: Spec) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            key = ref.rsplit("/", 1)[-1]
            if key not in found:
                found.add(key)
                _refs_in(spec["components"]["schemas"].get(key, {}), found, spec)
        for value in node.values():
            _refs_in(value, found, spec)
    elif isinstance(node, list):
        for value in node:
            _refs_in(value, found, spec)


def _security(spec: Spec, operation: dict[str, Any]) -> list[str]:
    alternatives = operation.get("security", spec.get("security", []))
    words: list[str] = []
    for alternative in alternatives or [{}]:
        if not alternative:
            words.append("anonymous")
        for scheme in alternative:
            word = SECURITY_WORDS.get(scheme, "user")
            if word not in words:
                words.append(word)
    return words


def _parameters(spec: Spec, path_item: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        param = _resolve(spec, raw)
        merged[(param.get("in", ""), param.get("name", ""))] = param
    return list(merged.values())


def _answer_body(spec: Spec, media_type: str, media: dict[str, Any]) -> Any:
    found, value = _example_of(spec, media)
    if found:
        return value
    schema = media.get("schema")
    if schema is None:
        return None
    return synthesize(spec, schema)


def answer_for(spec: Spec, path: str, method: str, operation: dict[str, Any]) -> dict[str, Any]:
    path_item = spec["paths"][path]
    params = _parameters(spec, path_item, operation)
    path_ints = [
        p["name"]
        for p in params
        if p.get("in") == "path" and _resolve(spec, p.get("schema", {})).get("type") == "integer"
    ]
    query_required = [p["name"] for p in params if p.get("in") == "query" and p.get("required")]
    body: dict[str, Any] | None = None
    request_body = _resolve(spec, operation.get("requestBody"))
    if isinstance(request_body, dict) and request_body.get("content"):
        content = request_body["content"]
        json_media = next((m for m in content if "json" in m), None)
        schema = content[json_media].get("schema") if json_media else None
        body = {
            "required": bool(request_body.get("required")),
            "media_types": sorted(content),
            "schema": strip_prose(schema) if schema is not None else None,
        }
    responses = operation.get("responses", {})
    success = sorted(str(code) for code in responses if str(code).startswith("2"))
    status = int(success[0]) if success else 200
    response = _resolve(spec, responses.get(success[0], {})) if success else {}
    content = response.get("content", {}) if isinstance(response, dict) else {}
    media_type = next((m for m in content if "json" in m), next(iter(content), None))
    answer = _answer_body(spec, media_type, content[media_type]) if media_type else None
    return {
        "method": method.upper(),
        "path": path,
        "security": _security(spec, operation),
        "path_ints": path_ints,
        "query_required": query_required,
        "body": body,
        "status": status,
        "media_type": media_type,
        "answer": answer,
    }


def webhooks_of(spec: Spec) -> dict[str, dict[str, dict[str, Any]]]:
    """event_type → schema_version → the envelope's schema (a ``$ref``) and a ``data`` sample for it."""
    events: dict[str, dict[str, dict[str, Any]]] = {}
    for event_type, version, key in event_versions(spec):
        data_schema = spec["components"]["schemas"][key].get("properties", {}).get("data", {})
        events.setdefault(event_type, {})[version] = {
            "schema": {"$ref": f"#/components/schemas/{key}"},
            "data": synthesize(spec, data_schema),
        }
    return events


Collected = tuple[dict[str, dict[str, Any]], dict[str, dict[str, dict[str, Any]]], dict[str, Any]]


def collect(spec: Spec) -> Collected:
    """operationId → its answer; the webhook events; the component schemas that request bodies and
    webhook envelopes refer to (what FakeWise validates them against)."""
    answers: dict[str, dict[str, Any]] = {}
    for path, method, operation in iter_operations(spec):
        answers[operation["operationId"]] = answer_for(spec, path, method, operation)
    webhooks = webhooks_of(spec)
    referenced: set[str] = set()
    for answer in answers.values():
        if answer["body"] is not None:
            _refs_in(answer["body"]["schema"], referenced, spec)
    for versions in webhooks.values():
        for event in versions.values():
            _refs_in(event["schema"], referenced, spec)
    schemas = {key: strip_prose(spec["components"]["schemas"][key]) for key in sorted(referenced)}
    return answers, webhooks, schemas


def render(
    answers: dict[str, dict[str, Any]],
    webhooks: dict[str, dict[str, dict[str, Any]]],
    schemas: dict[str, Any],
) -> str:
    # JSON text rather than Python literals: true/false/null and any key survive unchanged.
    data = json.dumps(
        {"answers": answers, "webhooks": webhooks, "schemas": schemas}, sort_keys=True, ensure_ascii=True
    )
    chunks = pprint.pformat(data, width=100)
    return (
        '"""FakeWise\'s spec-driven answers (generated by codegen/fake_answers.py from the spec)."""\n\n'
        "import json\nfrom typing import Any, Final\n\n"
        f"_DATA: Final[dict[str, Any]] = json.loads(\n{chunks}\n)\n"
        "#: operationId → {method, path, security, path_ints, query_required, body, status, media_type,"
        " answer}\n"
        'ANSWERS: Final[dict[str, dict[str, Any]]] = _DATA["answers"]\n'
        "#: event_type → schema_version → {schema (the envelope's ``$ref``), data (a sample)}\n"
        'WEBHOOKS: Final[dict[str, dict[str, dict[str, Any]]]] = _DATA["webhooks"]\n'
        "#: component schemas that request bodies and webhook envelopes refer to"
        " (``#/components/schemas/<key>``)\n"
        'SCHEMAS: Final[dict[str, Any]] = _DATA["schemas"]\n'
    )


def write(spec: Spec, package_dir: Path) -> int:
    answers, webhooks, schemas = collect(spec)
    (package_dir / MODULE).write_text(render(answers, webhooks, schemas), encoding="utf-8")
    return len(answers)
