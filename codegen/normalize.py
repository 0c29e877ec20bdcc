"""Normalize Wise's OpenAPI bundle so openapi-python-client generates every operation and model.

Each fix is a small function named after the class of problem it removes, registered in ``FIXES``
with a one-line reason. Fixes are general: they key on the shape of the document, never on a
particular operationId, so the next spec release needs no new special case for the same problem.

Run: ``python -m codegen.normalize openapi/index.yaml openapi/index.normalized.json``
"""

from __future__ import annotations

import calendar
import json
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from openapi_python_client.strings import pascal_case

Spec = dict[str, Any]
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_REF_PREFIX = "#/components/schemas/"


def load_spec(path: Path) -> Spec:
    """Load YAML or JSON with the C loader when present (the bundle is ~1.2 MB)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as f:
        spec: Spec = yaml.load(f, Loader=loader)  # a SafeLoader: no arbitrary objects
    return spec


def iter_operations(spec: Spec) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def class_name(raw: str) -> str:
    """The model class name openapi-python-client derives from a title or key."""
    return pascal_case(raw)


def words_of(name: str) -> str:
    """``transfers#state-change`` → ``transfers state change``: a referrer name usable in a title."""
    return re.sub(r"[^0-9A-Za-z]+", " ", name).strip()


def _walk_refs(node: Any, found: Callable[[str], None], *, skip_examples: bool = True) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found(ref)
        for key, value in node.items():
            if skip_examples and key in ("example", "examples"):
                continue
            _walk_refs(value, found, skip_examples=skip_examples)
    elif isinstance(node, list):
        for value in node:
            _walk_refs(value, found, skip_examples=skip_examples)


def schema_referrers(spec: Spec) -> dict[str, list[str]]:
    """Map component schema name → names of the things that reference it, in document order.

    A referrer is an operationId, a webhook event name, or another component schema.
    """
    referrers: dict[str, list[str]] = defaultdict(list)

    def collect(owner: str, node: Any) -> None:
        def found(ref: str) -> None:
            if ref.startswith(SCHEMA_REF_PREFIX):
                target = ref[len(SCHEMA_REF_PREFIX) :]
                if owner not in referrers[target]:
                    referrers[target].append(owner)

        _walk_refs(node, found)

    for _, _, op in iter_operations(spec):
        collect(op.get("operationId", ""), op)
    for event, item in spec.get("webhooks", {}).items():
        collect(event, item)
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        collect(name, schema)
    return referrers


def _common_words(names: list[str]) -> str:
    """Words shared by every referrer name ("personal-profile", "business-profile" → "profile")."""
    word_sets = [re.findall(r"[A-Za-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", n).lower()) for n in names]
    first = word_sets[0]
    shared = [w for w in first if all(w in ws for ws in word_sets[1:])]
    return " ".join(shared)


# --- fixes ------------------------------------------------------------------------------------------


def drop_non_pointer_example_refs(spec: Spec) -> int:
    """Examples holding a ``$ref`` key that is not a JSON pointer (Dynamic Flow's ``$ref: continue``).

    Strict resolvers (Prism, json-schema-ref-parser) try to follow it and refuse the whole document,
    so the example is dropped; the schema still describes the response.
    """
    dropped = 0

    def has_bad_ref(node: Any) -> bool:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref is not None and not (isinstance(ref, str) and ref.startswith("#/")):
                return True
            return any(has_bad_ref(v) for v in node.values())
        if isinstance(node, list):
            return any(has_bad_ref(v) for v in node)
        return False

    def visit(node: Any) -> None:
        nonlocal dropped
        if isinstance(node, dict):
            if "example" in node and has_bad_ref(node["example"]):
                del node["example"]
                dropped += 1
            examples = node.get("examples")
            if isinstance(examples, dict):
                for key in [k for k, v in examples.items() if has_bad_ref(v)]:
                    del examples[key]
                    dropped += 1
            for key, value in node.items():
                if key not in ("example", "examples"):
                    visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(spec)
    return dropped


def hoist_shared_response_schemas(spec: Spec) -> int:
    """Inline schemas of shared ``components/responses`` become one component schema.

    Otherwise the generator emits one identical model per operation that uses the response (the global
    429 alone would add ~230 empty models), which slows generation and import.
    """
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    hoisted = 0
    for key, response in components.get("responses", {}).items():
        for media in response.get("content", {}).values():
            schema = media.get("schema")
            if not isinstance(schema, dict) or "$ref" in schema:
                continue
            name = f"SharedResponse{class_name(str(key))}"
            schemas[name] = schema
            media["schema"] = {"$ref": SCHEMA_REF_PREFIX + name}
            hoisted += 1
    return hoisted


def unique_component_model_names(spec: Spec) -> int:
    """Component schemas whose class names collide (same title, or keys differing only in case).

    The generator drops every schema after the first with the same class name, and with it every
    operation or model that references it. Each colliding schema is renamed after what references it:
    its only referrer (a webhook event or operation), else the words all its referrers share, else its
    position; names are derived from the document, so they are deterministic.
    """
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    groups: dict[str, list[str]] = defaultdict(list)
    for key, schema in schemas.items():
        groups[class_name(schema.get("title") or key).lower()].append(key)
    referrers = schema_referrers(spec)
    taken = {class_name(s.get("title") or k).lower() for k, s in schemas.items()}
    renamed = 0
    for members in groups.values():
        if len(members) < 2:
            continue
        canonical = [k for k in members if class_name(schemas[k].get("title") or k) == k]
        for index, key in enumerate(members, start=1):
            if canonical and key == canonical[0]:
                continue  # the schema whose key already is its class name keeps it
            base = schemas[key].get("title") or key
            refs = referrers.get(key, [])
            context = refs[0] if len(refs) == 1 else (_common_words(refs) if refs else "")
            candidate = f"{words_of(context)} {base}".strip() if context else base
            if class_name(candidate).lower() in taken:
                candidate = f"{base} {index}"
            taken.add(class_name(candidate).lower())
            schemas[key]["title"] = candidate
            renamed += 1
    return renamed


def unique_inline_titles_per_operation(spec: Spec) -> int:
    """Inline schemas in one operation sharing a title (request and response both titled "Personal").

    The generator prefixes inline titles with the operation name only, so both map to one class and the
    operation is dropped. Each duplicate gets the part it lives in appended: Request, or Response<code>.
    """
    renamed = 0
    for _, _, op in iter_operations(spec):
        titled: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)

        def collect(node: Any, part: str, bucket: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
            if isinstance(node, dict):
                title = node.get("title")
                if isinstance(title, str) and "$ref" not in node:
                    bucket[title].append((part, node))
                for key, value in node.items():
                    if key not in ("example", "examples"):
                        collect(value, part, bucket)
            elif isinstance(node, list):
                for value in node:
                    collect(value, part, bucket)

        collect(op.get("requestBody", {}), "Request", titled)
        for code, response in op.get("responses", {}).items():
            collect(response, f"Response{code}", titled)
        for title, places in titled.items():
            parts = {part for part, _ in places}
            if len(places) < 2 or len(parts) < 2:
                continue
            for part, node in places:
                node["title"] = f"{title} {part}"
                renamed += 1
    return renamed


# JSON Schema format checks as Prism's validator (ajv + ajv-formats, "full" mode) applies them.
# Formats not listed (int64, decimal, uri-reference, binary, ...) are not checked here.
_UUID = re.compile(r"^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$", re.IGNORECASE)
_DATE = re.compile(r"^(\d\d\d\d)-(\d\d)-(\d\d)$")
_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d)(\.\d+)?(z|[+-]\d\d(?::?\d\d)?)?$", re.IGNORECASE)
_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
    re.IGNORECASE,
)


def _is_date(text: str) -> bool:
    match = _DATE.match(text)
    if not match:
        return False
    year, month, day = (int(g) for g in match.groups())
    # year 0 has the calendar of year 2000 (both leap) and calendar.monthrange refuses it
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year or 2000, month)[1]


def _is_date_time(text: str) -> bool:
    parts = re.split(r"[tT\s]", text)
    if len(parts) != 2 or not _is_date(parts[0]):
        return False
    match = _TIME.match(parts[1])
    if not match or not match.group(5):  # a date-time needs its time zone
        return False
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3))
    return hour <= 23 and minute <= 59 and second <= 60


_FORMATS: dict[str, Callable[[str], bool]] = {
    "uuid": lambda s: bool(_UUID.match(s)),
    "date": _is_date,
    "date-time": _is_date_time,
    "email": lambda s: bool(_EMAIL.match(s)),
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"  # JSON has one number type: 1.0 is an integer to a JSON Schema validator
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "unknown"


def conforms(value: Any, schema: Any, spec: Spec, depth: int = 0) -> bool:
    """Whether ``value`` validates against ``schema`` (the JSON Schema subset Wise's spec uses).

    Keywords it does not know are accepted, so an example is only ever judged invalid for a reason
    Prism's validator shares: wrong type, enum or const, a failing format, bounds, required or unknown
    (``additionalProperties: false``) properties, or a ``oneOf`` that matches no or several branches.
    """
    if depth > 64:
        return True
    if schema is True or not isinstance(schema, dict):
        return schema is not False
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(SCHEMA_REF_PREFIX):
        target = spec.get("components", {}).get("schemas", {}).get(ref[len(SCHEMA_REF_PREFIX) :])
        if target is not None and not conforms(value, target, spec, depth + 1):
            return False
    kind = _json_type(value)
    declared = schema.get("type")
    if declared is not None:
        allowed = set(declared) if isinstance(declared, list) else {declared}
        if kind not in allowed and not (kind == "integer" and "number" in allowed):
            return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if "const" in schema and value != schema["const"]:
        return False
    if kind == "string":
        check = _FORMATS.get(str(schema.get("format")))
        if check is not None and not check(value):
            return False
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
            return False
        if isinstance(schema.get("pattern"), str) and not re.search(schema["pattern"], value):
            return False
    if kind in ("integer", "number"):
        if "minimum" in schema and value < schema["minimum"]:
            return False
        if "maximum" in schema and value > schema["maximum"]:
            return False
    if kind == "array":
        if len(value) > schema.get("maxItems", len(value)) or len(value) < schema.get("minItems", 0):
            return False
        if "items" in schema and not all(conforms(v, schema["items"], spec, depth + 1) for v in value):
            return False
    if kind == "object":
        properties = schema.get("properties", {})
        if any(name not in value for name in schema.get("required", [])):
            return False
        for name, item in value.items():
            if name in properties:
                if not conforms(item, properties[name], spec, depth + 1):
                    return False
            elif "additionalProperties" in schema and not conforms(
                item, schema["additionalProperties"], spec, depth + 1
            ):
                return False
    if not all(conforms(value, sub, spec, depth + 1) for sub in schema.get("allOf", [])):
        return False
    if "anyOf" in schema and not any(conforms(value, sub, spec, depth + 1) for sub in schema["anyOf"]):
        return False
    return "oneOf" not in schema or sum(conforms(value, sub, spec, depth + 1) for sub in schema["oneOf"]) == 1


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "oneOf", "anyOf", "prefixItems")
_SCHEMA_SINGLES = ("items", "additionalProperties", "not", "contains", "if", "then", "else", "propertyNames")
_HOLDER_SECTIONS = ("responses", "parameters", "headers", "requestBodies")


Where = tuple[str, ...]  # the keys from the document's root to a node


def _walk_schemas(spec: Spec, on_schema: Callable[[dict[str, Any], Where], None]) -> None:
    """Call ``on_schema(schema, where)`` for every schema object in the document, parents before their
    subschemas."""

    def schema(node: Any, where: Where) -> None:
        if not isinstance(node, dict):
            return
        on_schema(node, where)
        for key in _SCHEMA_MAPS:
            if isinstance(node.get(key), dict):
                for name, sub in node[key].items():
                    schema(sub, (*where, key, str(name)))
        for key in _SCHEMA_LISTS:
            if isinstance(node.get(key), list):
                for index, sub in enumerate(node[key]):
                    schema(sub, (*where, key, str(index)))
        for key in _SCHEMA_SINGLES:
            schema(node.get(key), (*where, key))

    def outside(node: Any, where: Where) -> None:  # paths, webhooks, components: schemas sit under "schema"
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "schema":
                    schema(value, (*where, key))
                elif key not in ("example", "examples"):
                    outside(value, (*where, str(key)))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                outside(value, (*where, str(index)))

    components = spec.get("components", {})
    for name, node in components.get("schemas", {}).items():
        schema(node, ("components", "schemas", str(name)))
    outside(spec.get("paths", {}), ("paths",))
    outside(spec.get("webhooks", {}), ("webhooks",))
    for key in _HOLDER_SECTIONS:
        outside(components.get(key, {}), ("components", key))


def _walk_example_holders(spec: Spec, on_holder: Callable[[dict[str, Any], Where], None]) -> None:
    """Call ``on_holder(holder, where)`` for every media type, parameter and header: ``schema`` beside its
    examples."""

    def visit(node: Any, where: Where) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("schema"), dict):
                on_holder(node, where)
            for key, value in node.items():
                if key not in ("example", "examples", "schema"):
                    visit(value, (*where, str(key)))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, (*where, str(index)))

    visit(spec.get("paths", {}), ("paths",))
    visit(spec.get("webhooks", {}), ("webhooks",))
    components = spec.get("components", {})
    for key in _HOLDER_SECTIONS:
        visit(components.get(key, {}), ("components", key))


def place(spec: Spec, where: Where) -> str:
    """A node's place as a reader finds it, stable when paths move to another API version: under an
    operation by its operationId (``activityList responses/200/content/application/json``), under a
    webhook by its event (``webhook transfers#state-change requestBody/...``), else its keys."""
    if where[:1] == ("paths",) and len(where) > 2:
        operation = spec["paths"].get(where[1], {}).get(where[2])
        if isinstance(operation, dict) and "operationId" in operation:
            return f"{operation['operationId']} {'/'.join(where[3:])}".rstrip()
        return f"{where[1]} {'/'.join(where[2:])}"
    if where[:1] == ("webhooks",) and len(where) > 2:
        return f"webhook {where[1]} {'/'.join(where[3:])}".rstrip()
    return "/".join(where)


def _own_examples(schema: Any, spec: Spec) -> list[Any]:
    """A schema's ``example`` and ``examples`` (following a component ``$ref``)."""
    if isinstance(schema, dict) and str(schema.get("$ref", "")).startswith(SCHEMA_REF_PREFIX):
        target = spec.get("components", {}).get("schemas", {}).get(schema["$ref"][len(SCHEMA_REF_PREFIX) :])
        return _own_examples(target, spec) + _own_examples(
            {k: v for k, v in schema.items() if k != "$ref"}, spec
        )
    if not isinstance(schema, dict):
        return []
    found = [schema["example"]] if "example" in schema else []
    return found + (schema["examples"] if isinstance(schema.get("examples"), list) else [])


def relax_ambiguous_one_of(spec: Spec) -> int:
    """A ``oneOf`` whose own branch examples each match several branches becomes an ``anyOf``.

    Object branches without ``required`` properties or ``additionalProperties: false`` overlap, so a
    payload shaped like one branch also matches the others, and "exactly one" rejects every real
    request (Prism answers 400). The spec's examples prove the overlap; ``anyOf`` keeps the branch
    types (the generated union is the same) without the exclusivity no payload can satisfy.
    """
    relaxed = 0

    def visit(schema: dict[str, Any], where: Where) -> None:
        nonlocal relaxed
        branches = schema.get("oneOf")
        if not isinstance(branches, list) or len(branches) < 2 or "discriminator" in schema:
            return
        evidence = [example for branch in branches for example in _own_examples(branch, spec)]
        if any(sum(conforms(example, branch, spec) for branch in branches) > 1 for example in evidence):
            if "anyOf" in schema:  # both present: the relaxed branches join as one more constraint
                schema.setdefault("allOf", []).append({"anyOf": schema.pop("oneOf")})
            else:
                schema["anyOf"] = schema.pop("oneOf")
            relaxed += 1

    _walk_schemas(spec, visit)
    return relaxed


def drop_invalid_examples(spec: Spec, places: list[str] | None = None) -> int:
    """Examples that fail their own schema (a ``date-time`` without time zone, ``null`` for a string).

    A mock server serves them as responses and then rejects its own answer; a client test built from
    them sends invalid requests. The example is dropped, so tools generate a value from the schema,
    which stays the contract. Covers schema ``example``/``examples`` and the ``example``/``examples``
    of media types, parameters and headers. Each dropped example's :func:`place` goes to ``places``.
    """
    dropped: list[str] = []

    def valid(value: Any, schema: Any) -> bool:
        return conforms(value, schema, spec)

    def check_schema(schema: dict[str, Any], where: Where) -> None:
        if "example" in schema and not valid(schema["example"], schema):
            del schema["example"]
            dropped.append(place(spec, (*where, "example")))
        if isinstance(schema.get("examples"), list):
            kept = [e for e in schema["examples"] if valid(e, schema)]
            dropped.extend(
                place(spec, (*where, "examples", str(i)))
                for i, e in enumerate(schema["examples"])
                if not valid(e, schema)
            )
            if kept:
                schema["examples"] = kept
            else:
                del schema["examples"]

    def example_value(example: Any) -> Any:
        ref = example.get("$ref") if isinstance(example, dict) else None
        if isinstance(ref, str) and ref.startswith("#/components/examples/"):
            example = spec.get("components", {}).get("examples", {}).get(ref.rsplit("/", 1)[-1], {})
        return example.get("value", _NO_VALUE) if isinstance(example, dict) else _NO_VALUE

    def check_holder(holder: dict[str, Any], where: Where) -> None:
        schema = holder["schema"]
        if "example" in holder and not valid(holder["example"], schema):
            del holder["example"]
            dropped.append(place(spec, (*where, "example")))
        examples = holder.get("examples")
        if isinstance(examples, dict):
            for key in list(examples):
                value = example_value(examples[key])
                if value is not _NO_VALUE and not valid(value, schema):
                    del examples[key]
                    dropped.append(place(spec, (*where, "examples", str(key))))
            if not examples:
                del holder["examples"]

    _walk_schemas(spec, check_schema)
    _walk_example_holders(spec, check_holder)
    if places is not None:
        places.extend(dropped)
    return len(dropped)


_NO_VALUE = object()


def sdk_filled_body_keys_optional(spec: Spec) -> int:
    """Request body properties the SDK fills itself (``customerTransactionId``, ``originalTransferId``).

    Wise requires them as idempotency keys; the SDK adds one per logical call when the caller did not
    (wise_async/_idempotency.py), so the typed request models must not require the caller to.
    """
    from codegen.facade import IDEMPOTENCY_BODY_KEYS

    schemas = spec.get("components", {}).get("schemas", {})
    relaxed = 0
    seen: set[int] = set()

    def visit(schema: Any) -> None:
        nonlocal relaxed
        if not isinstance(schema, dict) or id(schema) in seen:
            return
        seen.add(id(schema))
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_REF_PREFIX):
            visit(schemas.get(ref[len(SCHEMA_REF_PREFIX) :]))
        required = schema.get("required")
        if isinstance(required, list) and any(key in required for key in IDEMPOTENCY_BODY_KEYS):
            schema["required"] = [key for key in required if key not in IDEMPOTENCY_BODY_KEYS]
            if not schema["required"]:
                del schema["required"]
            relaxed += 1
        for key in ("allOf", "oneOf", "anyOf"):
            for sub in schema.get(key, []) if isinstance(schema.get(key), list) else []:
                visit(sub)

    for _, _, op in iter_operations(spec):
        for media in op.get("requestBody", {}).get("content", {}).values():
            visit(media.get("schema"))
    return relaxed


FIXES: list[tuple[Callable[[Spec], int], str]] = [
    (drop_non_pointer_example_refs, "examples with a non-pointer $ref removed"),
    (hoist_shared_response_schemas, "shared response schemas hoisted into components"),
    (unique_component_model_names, "colliding component model names renamed"),
    (unique_inline_titles_per_operation, "colliding inline titles within an operation renamed"),
    (relax_ambiguous_one_of, "oneOf whose examples match several branches relaxed to anyOf"),
    (drop_invalid_examples, "examples failing their own schema removed"),
    (sdk_filled_body_keys_optional, "body idempotency keys the SDK fills made optional"),
]


def normalize(spec: Spec, places: dict[str, list[str]] | None = None) -> list[tuple[str, int]]:
    """Apply every fix in order; return (fix name, number of places changed). The fixes that name their
    places (a number that moves between releases says nothing of where) add them to ``places``."""
    report = []
    for fix, _ in FIXES:
        if fix is drop_invalid_examples and places is not None:
            report.append((fix.__name__, drop_invalid_examples(spec, places.setdefault(fix.__name__, []))))
        else:
            report.append((fix.__name__, fix(spec)))
    return report


def main(argv: list[str]) -> int:
    source, target = Path(argv[1]), Path(argv[2])
    spec = load_spec(source)
    report = normalize(spec)
    target.write_text(json.dumps(spec, indent=1, sort_keys=False, ensure_ascii=False) + "\n")
    for (name, count), (_, reason) in zip(report, FIXES, strict=True):
        print(f"normalize: {name}: {count} ({reason})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
