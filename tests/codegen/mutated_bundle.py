"""A Wise bundle as a later release could look: calendar-versioned paths and the usual churn.

``calendar_versions`` moves every ``/vN/...`` path to ``/2026Q4/...`` (the highest ``vN`` of a path,
when several exist; never the card-data host, OAuth or webhooks, which Wise has not moved).
``release_churn`` adds an operation, removes one, retypes a field and adds a webhook payload field.
Run as a script to write such a bundle: ``python tests/codegen/mutated_bundle.py OUT.yaml [IN.yaml]``.
"""

from __future__ import annotations

import re
import sys
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
    removed: str = ""
    retyped: tuple[str, str] = ("", "")  # (old, new) JSON type of balanceCapacity's depositLimit.amount
    webhook_field: str = ""


def _operations(spec: Spec) -> dict[str, tuple[str, str]]:
    return {
        op["operationId"]: (method.upper(), path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


def release_churn(spec: Spec) -> Churn:
    """An operation added and one removed, a field retyped, a webhook payload field added. Applied to a
    bundle that already had this churn, it churns again (removes the widget, adds another)."""
    churn = Churn()
    operations = _operations(spec)
    churn.added = next(
        n for n in (ADDED_OPERATION, *(f"{ADDED_OPERATION}{i}" for i in range(2, 99))) if n not in operations
    )
    removed = REMOVED_OPERATION if REMOVED_OPERATION in operations else ADDED_OPERATION
    churn.removed = removed
    suffix = churn.added.removeprefix(ADDED_OPERATION)
    churn.added_path = f"/{QUARTER}/profiles/{{profileId}}/widgets{suffix}"
    spec["paths"][churn.added_path] = {
        "get": {
            "operationId": churn.added,
            "tags": ["widget"],
            "parameters": [
                {"name": "profileId", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                                },
                            }
                        }
                    },
                }
            },
        }
    }
    for path, item in list(spec["paths"].items()):
        for method, operation in list(item.items()):
            if not isinstance(operation, dict):
                continue
            if operation.get("operationId") == removed:
                del item[method]
            if operation.get("operationId") == "balanceCapacity":
                schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
                amount = schema["properties"]["depositLimit"]["properties"]["amount"]
                old = amount["type"]
                amount["type"] = "string" if old == "number" else "number"
                amount.pop("example", None)
                churn.retyped = (old, amount["type"])
        if not any(isinstance(v, dict) and "responses" in v for v in item.values()):
            del spec["paths"][path]
    body = spec["webhooks"]["transfers#state-change"]["post"]["requestBody"]["content"]["application/json"]
    ref = body["schema"]["discriminator"]["mapping"]["4.0.0"]
    envelope = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    fields = envelope["properties"]["data"]["properties"]
    churn.webhook_field = next(
        n for n in (WEBHOOK_FIELD, *(f"{WEBHOOK_FIELD}_{i}" for i in range(2, 99))) if n not in fields
    )
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
    release_churn(spec)
    out.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    print(
        f"{out}: {len(moved)} paths moved to /{QUARTER}, {ADDED_OPERATION} added, {REMOVED_OPERATION} removed"
    )
