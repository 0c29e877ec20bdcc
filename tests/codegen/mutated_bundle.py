"""A Wise bundle as a later release could look: calendar-versioned paths and the usual churn.

``calendar_versions`` moves every ``/vN/...`` path to ``/2026Q4/...`` (the highest ``vN`` of a path,
when several exist; never the card-data host, OAuth or webhooks, which Wise has not moved).
``release_churn`` makes one change of every kind a release brings (see :class:`Churn`): an operation added
under a new tag (paged in a shape the paging table does not know, answering a tagged ``oneOf``) and one
removed, a response field retyped, a required request field added, enum values added and removed, an
operation newly deprecated, a field made nullable the OpenAPI 3.1 way, a required ``const`` field, a new
webhook event and a field added to an event's payload. Applied to an already churned bundle it churns again.
Run as a script to write such a bundle: ``python tests/codegen/mutated_bundle.py OUT.yaml [IN.yaml]``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Spec = dict[str, Any]
QUARTER = "2026Q4"
VERSIONED = re.compile(r"^/v(\d+)(/.*)$")
ADDED_OPERATION = "widgetList"
REMOVED_OPERATION = "bankAccountDetailsReturnsCreate"
WEBHOOK_FIELD = "fresh_field"
NEW_EVENT = "balances#update"
REQUIRED_FIELD = "purposeCode"  # added to transferCreate's body
ENUM = "ActivityStatus"
ENUM_VALUE = "ON_HOLD"
CONST_FIELD = "kind"  # a required `const` in balanceCapacity's answer
CONST_VALUE = "CAPACITY"


def calendar_versions(spec: Spec, quarter: str = QUARTER) -> dict[str, str]:
    """Move paths in place; returns old path → new path (never onto a path the bundle already has)."""
    newest: dict[str, tuple[int, str]] = {}
    for path in spec["paths"]:
        found = VERSIONED.match(path)
        if found:
            version, rest = int(found.group(1)), found.group(2)
            if rest not in newest or version > newest[rest][0]:
                newest[rest] = (version, path)
    moved = {
        path: f"/{quarter}{rest}"
        for rest, (_, path) in newest.items()
        if f"/{quarter}{rest}" not in spec["paths"]
    }
    spec["paths"] = {moved.get(path, path): item for path, item in spec["paths"].items()}
    return moved


@dataclass
class Churn:
    """What ``release_churn`` changed, so tests know what the changelog must say."""

    added: str = ""
    added_path: str = ""
    added_schemas: tuple[str, ...] = ()  # the tagged oneOf's branches (component keys)
    removed: str = ""
    retyped: tuple[str, str] = ("", "")  # (old, new) JSON type of balanceCapacity's depositLimit.amount
    required_field: str = ""  # added, required, to transferCreate's body
    enum_added: str = ""  # ActivityStatus values
    enum_removed: str = ""
    deprecated: str = ""  # an operationId newly marked deprecated
    nullable: str = ""  # depositLimit.currency, already optional: now type [string, "null"]
    const_field: str = ""
    event_type: str = ""  # a new webhook event, schema version 2.0.0
    webhook_field: str = ""


def fresh(name: str, taken: Collection[str], sep: str = "") -> str:
    """``name``, or ``name2``, ``name3`` ... (with ``sep`` between): the first not in ``taken``."""
    return next(n for n in (name, *(f"{name}{sep}{i}" for i in range(2, 99))) if n not in taken)


def _operations(spec: Spec) -> dict[str, tuple[str, str]]:
    return {
        op["operationId"]: (method.upper(), path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


def _operation(spec: Spec, operation_id: str) -> dict[str, Any]:
    method, path = _operations(spec)[operation_id]
    operation: dict[str, Any] = spec["paths"][path][method.lower()]
    return operation


def _json_schema(operation: dict[str, Any], *where: str) -> dict[str, Any]:
    holder = operation
    for key in where:
        holder = holder[key]
    schema: dict[str, Any] = holder["content"]["application/json"]["schema"]
    return schema


def _add_widgets(spec: Spec, churn: Churn) -> None:
    """A new tag's list, paged with ``pageToken`` (a shape no paging style knows), whose items are a
    ``oneOf`` tagged by ``kind``."""
    schemas = spec["components"]["schemas"]
    churn.added = fresh(ADDED_OPERATION, _operations(spec))
    suffix = churn.added.removeprefix(ADDED_OPERATION)
    churn.added_path = f"/{QUARTER}/profiles/{{profileId}}/widgets{suffix}"
    branches = []
    for kind in ("card", "bank"):
        key = fresh(f"Widget{kind.title()}{suffix}", schemas)
        schemas[key] = {
            "type": "object",
            "required": ["kind", "id"],
            "properties": {
                "kind": {"type": "string", "enum": [kind]},
                "id": {"type": "integer"},
                "name": {"type": "string"},
            },
        }
        branches.append((kind, key))
    churn.added_schemas = tuple(key for _, key in branches)
    refs = {kind: f"#/components/schemas/{key}" for kind, key in branches}
    query = [
        {"name": "pageToken", "in": "query", "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
    ]
    page = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "oneOf": [{"$ref": ref} for ref in refs.values()],
                    "discriminator": {"propertyName": "kind", "mapping": refs},
                },
            },
            "nextPageToken": {"type": "string"},
        },
    }
    spec["paths"][churn.added_path] = {
        "get": {
            "operationId": churn.added,
            "tags": ["widget"],
            "parameters": [
                {"name": "profileId", "in": "path", "required": True, "schema": {"type": "integer"}},
                *query,
            ],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": page}}}},
        }
    }


def _add_event(spec: Spec, churn: Churn) -> None:
    """A new webhook event with one schema version, self-contained (it shares no component)."""
    churn.event_type = fresh(NEW_EVENT, spec["webhooks"], "-")
    key = fresh("balances-update-v2.0.0", spec["components"]["schemas"], "-")
    spec["components"]["schemas"][key] = {
        "type": "object",
        "required": ["data", "subscription_id", "event_type", "schema_version", "sent_at"],
        "properties": {
            "data": {
                "type": "object",
                "properties": {
                    "balance_id": {"type": "integer"},
                    "currency": {"type": "string"},
                    "amount": {"type": "number"},
                    "occurred_at": {"type": "string", "format": "date-time"},
                },
            },
            "subscription_id": {"type": "string"},
            "event_type": {"type": "string"},
            "schema_version": {"type": "string", "enum": ["2.0.0"]},
            "sent_at": {"type": "string", "format": "date-time"},
        },
    }
    spec["webhooks"][churn.event_type] = {
        "post": {
            "operationId": fresh("eventBalancesUpdate", _operations(spec)),
            "tags": ["webhook-event", "balance"],
            "requestBody": {
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{key}"}}}
            },
            "responses": {"200": {"description": "ok"}},
        }
    }


def release_churn(spec: Spec) -> Churn:
    """One change of every kind a release brings (see the module docstring); returns what it changed."""
    churn = Churn()
    operations = _operations(spec)
    removed = REMOVED_OPERATION if REMOVED_OPERATION in operations else ADDED_OPERATION
    churn.removed = removed
    _add_widgets(spec, churn)

    method, path = operations[churn.removed]
    del spec["paths"][path][method.lower()]
    if not any(isinstance(v, dict) and "responses" in v for v in spec["paths"][path].values()):
        del spec["paths"][path]

    capacity = _json_schema(_operation(spec, "balanceCapacity"), "responses", "200")
    limit = capacity["properties"]["depositLimit"]["properties"]
    old = limit["amount"]["type"]
    limit["amount"]["type"] = "string" if old == "number" else "number"
    limit["amount"].pop("example", None)
    churn.retyped = (old, limit["amount"]["type"])
    limit["currency"]["type"] = ["string", "null"]  # it was optional already: the same Python type
    churn.nullable = "currency"
    churn.const_field = fresh(CONST_FIELD, capacity["properties"])
    capacity["properties"][churn.const_field] = {"const": CONST_VALUE}
    capacity["required"] = [*capacity.get("required", []), churn.const_field]

    body = _json_schema(_operation(spec, "transferCreate"), "requestBody")
    churn.required_field = fresh(REQUIRED_FIELD, body["properties"])
    body["properties"][churn.required_field] = {"type": "string"}
    body["required"] = [*body.get("required", []), churn.required_field]

    enum = spec["components"]["schemas"][ENUM]
    churn.enum_added = fresh(ENUM_VALUE, enum["enum"], "_")
    churn.enum_removed = sorted(v for v in enum["enum"] if v != enum.get("example"))[0]
    enum["enum"] = [v for v in enum["enum"] if v != churn.enum_removed] + [churn.enum_added]

    churn.deprecated = next(  # a rate operation, or on a bundle churned before, any other
        n
        for n in sorted(_operations(spec), key=lambda n: (not n.startswith("rate"), n))
        if not _operation(spec, n).get("deprecated")
    )
    _operation(spec, churn.deprecated)["deprecated"] = True

    _add_event(spec, churn)
    transfers = _json_schema(spec["webhooks"]["transfers#state-change"]["post"], "requestBody")
    ref = transfers["discriminator"]["mapping"]["4.0.0"]
    envelope = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    fields = envelope["properties"]["data"]["properties"]
    churn.webhook_field = fresh(WEBHOOK_FIELD, fields, "_")
    fields[churn.webhook_field] = {"type": "string"}
    return churn


if __name__ == "__main__":
    out = Path(sys.argv[1])
    source = (
        Path(sys.argv[2])
        if len(sys.argv) > 2
        else Path(__file__).parents[3] / "shared/wise-openapi/index.yaml"
    )
    spec = yaml.safe_load(source.read_text(encoding="utf-8"))
    moved = calendar_versions(spec)
    churn = release_churn(spec)
    out.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    print(f"{out}: {len(moved)} paths moved to /{QUARTER}; {churn}")
