"""The JSON Schema subset FakeWise checks what it receives (request bodies) and what it sends (webhook
deliveries) against: the component schemas ``wise_api.fake_answers`` carries from the spec."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["validate"]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(kind, (object,)))


_OPEN_KEYS = ("allOf", "oneOf", "anyOf", "patternProperties")  # keys these add are not in "properties"


def validate(
    value: Any,
    schema: Any,
    schemas: Mapping[str, Any],
    where: str = "",
    depth: int = 0,
    *,
    closed: bool = False,
) -> Iterator[str]:
    """Violations of ``value`` against a JSON Schema subset (type, enum, const, required, properties,
    items, allOf/oneOf/anyOf, ``$ref`` into ``schemas``): what Wise's own validation rejects first.

    ``closed``: an object whose schema lists its properties (and nothing else that adds keys) may hold
    only those, as what FakeWise sends itself must (a key the spec renamed fails here, not in an app).
    """
    if not isinstance(schema, dict) or depth > 64:
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        yield from validate(
            value, schemas.get(ref.rsplit("/", 1)[-1], {}), schemas, where, depth + 1, closed=closed
        )
    label = where or "body"
    kinds = schema.get("type")
    if kinds is not None:
        allowed = kinds if isinstance(kinds, list) else [kinds]
        if not any(_type_ok(value, k) for k in allowed):
            yield f"{label} must be {' or '.join(allowed)}"
            return
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        yield f"{label} must be one of {schema['enum'][:10]}"
    if "const" in schema and value != schema["const"]:
        yield f"{label} must be {schema['const']!r}"
    for part in schema.get("allOf", []):
        yield from validate(value, part, schemas, where, depth + 1)  # a part declares some of the keys
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if branches and not any(
            not list(validate(value, b, schemas, where, depth + 1, closed=closed)) for b in branches
        ):
            yield f"{label} matches none of the allowed shapes"
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                yield f"{where + '.' if where else ''}{name} is required"
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                yield from validate(
                    value[name],
                    sub,
                    schemas,
                    f"{where + '.' if where else ''}{name}",
                    depth + 1,
                    closed=closed,
                )
        declared = schema.get("properties")
        extra = schema.get("additionalProperties")
        if closed and declared and extra in (None, False) and not any(k in schema for k in _OPEN_KEYS):
            for name in value:
                if name not in declared:
                    yield f"{where + '.' if where else ''}{name} is not in the spec"
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            yield from validate(item, schema["items"], schemas, f"{label}[{index}]", depth + 1, closed=closed)
