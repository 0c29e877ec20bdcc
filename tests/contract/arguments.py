"""Build call arguments for a generated ``wise_api`` operation from the normalized spec.

Values come from the spec: a parameter's or media type's examples first, then the schema's own
example, then a schema-minimal value (required properties only, the first enum value, a fixed value
per string format). They are mapped onto the generated ``asyncio_detailed`` signature by name and
converted to the annotated Python types (UUID, datetime, enums, models via ``from_dict``), so the
generated serialization code is what produces the request Prism validates.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

import attrs
from dateutil.parser import isoparse
from wise_api.types import File, Unset

ROOT = Path(__file__).resolve().parents[2]
NORMALIZED_SPEC = ROOT / "openapi" / "index.normalized.json"
PDF_BYTES = b"%PDF-1.4\n%contract-test\n"
MAX_DEPTH = 12

# Fixed values per string format: deterministic and valid for the format Prism checks.
FORMAT_VALUES: dict[str, Any] = {
    "uuid": "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    "date-time": "2025-01-02T03:04:05Z",
    "date": "2025-01-02",
    "time": "03:04:05Z",
    "email": "contract-test@example.com",
    "uri": "https://example.com/contract-test",
    "url": "https://example.com/contract-test",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "binary": PDF_BYTES,
    "byte": "Y29udHJhY3Q=",
}


@cache
def spec() -> dict[str, Any]:
    return typing.cast(dict[str, Any], json.loads(NORMALIZED_SPEC.read_text(encoding="utf-8")))


def resolve(node: Any) -> Any:
    """Follow local ``$ref`` pointers (components, examples, parameters) until a concrete node."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = spec()
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
        seen += 1
        if seen > 32:
            raise ValueError(f"$ref cycle at {node!r}")
    return node


def spec_operation(method: str, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The spec's operation object and its path item."""
    item = spec()["paths"][path]
    return item[method.lower()], item


def parameters(method: str, path: str) -> list[dict[str, Any]]:
    """Path-item and operation parameters, resolved; operation-level ones override by (in, name)."""
    op, item = spec_operation(method, path)
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
        param = resolve(raw)
        merged[(param["in"], param["name"])] = param
    return list(merged.values())


_MISSING = object()


def _first_example(node: Mapping[str, Any]) -> Any:
    """``example``, else the first of ``examples`` (a map of Example Objects, or a JSON Schema list)."""
    if "example" in node:
        return node["example"]
    examples = node.get("examples")
    if isinstance(examples, dict):
        for example in examples.values():
            example = resolve(example)
            if isinstance(example, dict) and "value" in example:
                return example["value"]
    if isinstance(examples, list) and examples:
        return examples[0]
    return _MISSING


def schema_value(schema: Any, depth: int = 0) -> Any:
    """The schema's own example, else a minimal valid value (required properties only)."""
    schema = resolve(schema)
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    example = _first_example(schema)
    if example is not _MISSING:
        return example
    return minimal_value(schema, depth)


def minimal_value(schema: dict[str, Any], depth: int = 0) -> Any:
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), schema["enum"][0])
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = schema_value(part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
            elif value is not None:
                return value
        own = _object_value(schema, depth) if "properties" in schema or "required" in schema else {}
        return {**merged, **own}
    for key in ("oneOf", "anyOf"):
        if key in schema:
            alternatives = [a for a in schema[key] if resolve(a).get("type") != "null"]
            chosen = alternatives[0] if alternatives else schema[key][0]
            value = schema_value(chosen, depth + 1)
            if isinstance(value, dict) and ("properties" in schema or "required" in schema):
                value = {**_object_value(schema, depth), **value}
            return value
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else ("array" if "items" in schema else "string")
    if kind == "object":
        return _object_value(schema, depth)
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [schema_value(schema.get("items", {}), depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        if "minimum" in schema:
            return schema["minimum"]
        if "exclusiveMinimum" in schema:
            return schema["exclusiveMinimum"] + 1
        return 1 if kind == "integer" else 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    fmt = schema.get("format")
    if fmt in FORMAT_VALUES:
        return FORMAT_VALUES[fmt]
    length = max(int(schema.get("minLength", 1)), 1)
    text = "contract-test"
    text = (text * (length // len(text) + 1))[: max(length, len(text))]
    return text[: int(schema["maxLength"])] if "maxLength" in schema else text


def _object_value(schema: dict[str, Any], depth: int) -> dict[str, Any]:
    properties = schema.get("properties", {})
    value: dict[str, Any] = {}
    for name in schema.get("required", []):
        value[name] = schema_value(properties.get(name, {}), depth + 1)
    return value


def parameter_value(param: dict[str, Any]) -> Any:
    example = _first_example(param)
    if example is not _MISSING:
        return example
    for media in param.get("content", {}).values():
        example = _first_example(media)
        if example is not _MISSING:
            return example
        return schema_value(media.get("schema", {}))
    return schema_value(param.get("schema", {}))


def body_value(media_type: str, media: dict[str, Any]) -> Any:
    example = _first_example(media)
    value = example if example is not _MISSING else schema_value(media.get("schema", {}))
    if value == {}:
        # nothing required: an empty body checks nothing, so send every top-level property once
        schema = resolve(media.get("schema", {}))
        value = {name: schema_value(prop, 1) for name, prop in schema.get("properties", {}).items()}
    if media_type == "multipart/form-data" and isinstance(value, dict):
        # an upload without its file is no upload: every binary part gets a small PDF
        properties = resolve(media.get("schema", {})).get("properties", {})
        for name, prop in properties.items():
            if resolve(prop).get("format") == "binary":
                value = {**value, name: PDF_BYTES}
    return value


# --- conversion onto the generated signature ---------------------------------------------------------


def python_key(name: str) -> str:
    """Compare spec names and generated Python names without caring about case and separators."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _members(annotation: Any) -> list[Any]:
    """Union members without ``Unset`` (``None`` kept)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return [a for a in typing.get_args(annotation) if a is not Unset]
    return [annotation]


def _is_model(kind: Any) -> bool:
    return inspect.isclass(kind) and hasattr(kind, "from_dict") and hasattr(kind, "to_dict")


def _clean(model: Any) -> bool:
    """A model built from a value that left nothing unrecognised in ``additional_properties``."""
    extra = getattr(model, "additional_properties", None)
    return not extra


def _exact(value: Any) -> Any:
    """A free-form example value with its numbers as Decimal: the SDK refuses a float in a request body."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


def to_python(value: Any, annotation: Any) -> Any:
    """Convert a JSON value to the generated annotation's Python type."""
    members = _members(annotation)
    if value is None and type(None) in members:
        return None
    members = [m for m in members if m is not type(None)]
    if len(members) > 1:
        converted: list[Any] = []
        errors: list[str] = []
        for member in members:
            try:
                result = to_python(value, member)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                errors.append(f"{getattr(member, '__name__', member)}: {exc!r}")
                continue
            if not _is_model(member) or _clean(result):
                return result
            converted.append(result)
        if converted:
            return converted[0]
        raise ValueError(f"{value!r} fits none of {annotation}: {errors}")
    kind = members[0] if members else Any
    origin = typing.get_origin(kind)
    if kind is Any:
        return _exact(value)
    if origin in (list, tuple):
        (item,) = typing.get_args(kind)[:1]
        if not isinstance(value, list):
            value = [value]
        return [to_python(v, item) for v in value]
    if origin is dict:
        _, item = typing.get_args(kind)
        return {k: to_python(v, item) for k, v in value.items()}
    if origin is typing.Literal:
        if value not in typing.get_args(kind):
            raise ValueError(f"{value!r} not in {kind}")
        return value
    if kind is File:
        payload = value if isinstance(value, bytes) else str(value).encode()
        return File(payload=BytesIO(payload), file_name="contract-test.pdf", mime_type="application/pdf")
    if inspect.isclass(kind) and issubclass(kind, enum.Enum):
        return kind(value)
    if kind is uuid.UUID:
        return uuid.UUID(str(value))
    if kind is datetime:
        return isoparse(value) if isinstance(value, str) else value
    if kind is date:
        return isoparse(value).date() if isinstance(value, str) else value
    if kind is bool:
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise TypeError(f"{value!r} is not an integer")
        return int(value)
    if kind is float:
        return float(value)
    if kind is Decimal:  # money: from the example's literal, never through float
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            raise TypeError(f"{value!r} is not a number")
        return value if isinstance(value, Decimal) else Decimal(str(value))
    if kind is str:
        if isinstance(value, (dict, list)):
            raise TypeError(f"{value!r} is not a string")
        return value if isinstance(value, str) else str(value)
    if kind is bytes:
        return value if isinstance(value, bytes) else str(value).encode()
    if _is_model(kind):
        if not isinstance(value, Mapping):
            raise TypeError(f"{kind.__name__} needs an object, got {value!r}")
        model = kind.from_dict(_exact(value))
        _name_files(model)
        return model
    raise TypeError(f"no conversion for {annotation!r}")


def _name_files(model: Any) -> None:
    """``from_dict`` wraps bytes in a ``File`` without a name; a real upload part carries one."""
    for field in attrs.fields(type(model)):
        value = getattr(model, field.name)
        if isinstance(value, File) and value.file_name is None:
            value.file_name, value.mime_type = "contract-test.pdf", "application/pdf"


class Call(typing.NamedTuple):
    args: list[Any]
    kwargs: dict[str, Any]


def success_media_types(op: dict[str, Any]) -> list[str]:
    """Content types of the operation's 2xx responses, in document order."""
    found: list[str] = []
    for code, response in op.get("responses", {}).items():
        if str(code).startswith("2"):
            found += [m for m in resolve(response).get("content", {}) if m not in found]
    return found


class _TypeCheckingNames(Mapping[str, Any]):
    """Names generated modules import only under TYPE_CHECKING (models, client), resolved on demand."""

    def __getitem__(self, name: str) -> Any:
        import wise_api.client
        import wise_api.models

        for source in (wise_api.models, wise_api.client):
            try:
                return getattr(source, name)
            except AttributeError:
                continue
        raise KeyError(name)

    def __iter__(self) -> typing.Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def type_hints(function: Callable[..., Any]) -> dict[str, Any]:
    """``typing.get_type_hints`` for a generated function (its model imports are lazy)."""
    return typing.get_type_hints(function, localns=_TypeCheckingNames())  # type: ignore[arg-type]


def build_call(function: Callable[..., Any], method: str, path: str, client: Any) -> Call:
    """Positional path parameters and keyword arguments (client, body, required query/header).

    An ``Accept`` header parameter whose default no 2xx response offers asks for one that does.
    """
    signature = inspect.signature(function)
    hints = type_hints(function)
    by_key: dict[str, dict[str, Any]] = {}
    for param in parameters(method, path):
        key = python_key(param["name"])
        if key in by_key:
            raise ValueError(f"two spec parameters map to the Python name {key!r}")
        by_key[key] = param
    op, _ = spec_operation(method, path)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name, parameter in signature.parameters.items():
        if name == "client":
            kwargs[name] = client
            continue
        if name == "body":
            kwargs[name] = build_body(op, hints[name])
            continue
        param = by_key.get(python_key(name))
        if param is None:
            raise ValueError(f"generated parameter {name!r} matches no spec parameter")
        if param["in"] == "header" and param["name"].lower() == "accept":
            offered = success_media_types(op)
            if offered and parameter.default not in offered:
                kwargs[name] = offered[0]
            continue
        if parameter.default is not inspect.Parameter.empty:
            continue  # optional parameters keep their generated defaults (minimal request)
        value = to_python(parameter_value(param), hints[name])
        if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            args.append(value)
        else:
            kwargs[name] = value
    return Call(args, kwargs)


def build_body(op: dict[str, Any], annotation: Any) -> Any:
    content = resolve(op.get("requestBody", {})).get("content", {})
    if not content:
        raise ValueError("generated function takes a body the spec does not declare")
    errors: list[str] = []
    for media_type, media in content.items():
        value = body_value(media_type, media)
        try:
            return to_python(value, annotation)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            errors.append(f"{media_type}: {exc!r}")
    raise ValueError(f"no request body for {annotation}: {errors}")
