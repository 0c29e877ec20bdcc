"""Normalize Wise's OpenAPI bundle so openapi-python-client generates every operation and model.

Each fix is a small function named after the class of problem it removes, registered in ``FIXES``
with a one-line reason. Fixes are general: they key on the shape of the document, never on a
particular operationId, so the next spec release needs no new special case for the same problem.

Run: ``python -m codegen.normalize openapi/index.yaml openapi/index.normalized.json``
"""

from __future__ import annotations

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
        spec: Spec = yaml.load(f, Loader=loader)  # noqa: S506 - SafeLoader subclass
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


FIXES: list[tuple[Callable[[Spec], int], str]] = [
    (drop_non_pointer_example_refs, "examples with a non-pointer $ref removed"),
    (hoist_shared_response_schemas, "shared response schemas hoisted into components"),
    (unique_component_model_names, "colliding component model names renamed"),
    (unique_inline_titles_per_operation, "colliding inline titles within an operation renamed"),
]


def normalize(spec: Spec) -> list[tuple[str, int]]:
    """Apply every fix in order; return (fix name, number of places changed)."""
    return [(fix.__name__, fix(spec)) for fix, _ in FIXES]


def main(argv: list[str]) -> int:
    source, target = Path(argv[1]), Path(argv[2])
    spec = load_spec(source)
    report = normalize(spec)
    target.write_text(json.dumps(spec, indent=1, sort_keys=False, ensure_ascii=False) + "\n")
    for (name, count), (_, reason) in zip(report, FIXES):
        print(f"normalize: {name}: {count} ({reason})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
