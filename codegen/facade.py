"""Render the operation table and the typed facade from the parsed endpoints.

Everything here is derived from the spec as openapi-python-client parsed it, so the facade's signatures
are the generated functions' signatures (minus ``client``) and a new spec release needs no hand edits.
Namespaces come from tags, method names from operationIds with the tag's words stripped.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi_python_client import Project
from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.openapi import Endpoint
from openapi_python_client.parser.properties import ListProperty, UuidProperty
from openapi_python_client.strings import PythonIdentifier, snake_case

from codegen import request_dicts, wire_types

IDEMPOTENCY_HEADER = "x-idempotence-uuid"
DOCS = "https://docs.wise.com/api-reference"
# Body properties Wise treats as idempotency keys (see shared/wise-protocol.md, "Idempotency").
IDEMPOTENCY_BODY_KEYS = ("customerTransactionId", "originalTransferId")
# Tags that read badly in the plural; everything else is pluralized on its last word.
UNCOUNTABLE_TAG_WORDS = {"security", "facetec", "jose", "simulation", "payins", "details", "currencies"}
DIGIT_WORDS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five"}


@dataclass
class Operation:
    """One operation, as the facade, the operation table and the surface lock see it."""

    operation_id: str
    method: str
    path: str
    tag: str
    module: str
    namespace: str
    method_name: str
    security: tuple[tuple[str, ...], ...]
    deprecated: bool
    servers: tuple[str, ...]
    idempotency_header: str | None  # "required" | "optional" | None
    idempotency_body_key: str | None
    request_content_types: tuple[str, ...]
    success_types: tuple[str, ...]
    request_types: tuple[str, ...]
    endpoint: Endpoint = field(repr=False, compare=False)


def namespace_name(tag: str) -> str:
    words = snake_case(tag).split("_")
    if words[0][:1].isdigit():
        digit, rest = words[0][0], words[0][1:]
        words = [DIGIT_WORDS.get(digit, "n" + digit), *([rest] if rest else []), *words[1:]]
    last = words[-1]
    if last.endswith("ss"):
        last += "es"
    elif last not in UNCOUNTABLE_TAG_WORDS and not last.endswith("s"):
        if last.endswith("y") and last[-2:-1] not in "aeiou":
            last = last[:-1] + "ies"
        elif last.endswith(("x", "ch", "sh")):
            last += "es"
        else:
            last += "s"
    return "_".join([*words[:-1], last])


def method_name(operation_id: str, tag: str) -> str:
    """``transferCreate`` in tag ``transfer`` → ``create``; keeps the words the tag does not explain."""
    words = snake_case(operation_id).split("_")
    tag_joined = snake_case(tag).replace("_", "")
    stripped = list(words)
    for cut in range(1, len(words)):
        if "".join(words[:cut]) in (tag_joined, tag_joined.rstrip("s")):
            stripped = words[cut:]
            break
    name = "_".join(stripped)
    if not name.isidentifier() or name[0].isdigit():
        name = "_".join(words)
    if name[0].isdigit():
        name = "op_" + name
    return name + "_" if keyword.iskeyword(name) else name


def _security(op: dict[str, Any], spec: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    requirements = op.get("security", spec.get("security", []))
    return tuple(tuple(sorted(req)) for req in requirements)


def _operations_by_python_name(
    spec: dict[str, Any], prefix: str
) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Spec operations keyed the way the generator names endpoints (``PythonIdentifier(operationId)``)."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                found[str(PythonIdentifier(op["operationId"], prefix))] = (path, method, op)
    return found


def _parameters(op: dict[str, Any], path_item: dict[str, Any], spec: dict[str, Any]) -> list[dict[str, Any]]:
    params = []
    for param in [*path_item.get("parameters", []), *op.get("parameters", [])]:
        if "$ref" in param:
            param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
        params.append(param)
    return params


def _body_properties(op: dict[str, Any], spec: dict[str, Any]) -> set[str]:
    names: set[str] = set()

    def visit(schema: Any, depth: int = 0) -> None:
        if not isinstance(schema, dict) or depth > 4:
            return
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref.startswith("#/components/schemas/"):
                visit(spec["components"]["schemas"][ref.rsplit("/", 1)[-1]], depth + 1)
            return
        names.update(schema.get("properties", {}))
        for key in ("allOf", "oneOf", "anyOf"):
            for sub in schema.get(key, []):
                visit(sub, depth + 1)

    for media in op.get("requestBody", {}).get("content", {}).values():
        visit(media.get("schema"))
    return names


def _type_names(props: list[Any]) -> tuple[str, ...]:
    return tuple(sorted({p.get_type_string(no_optional=True).as_unembedded_code() for p in props}))


def collect_operations(data: GeneratorData, spec: dict[str, Any], field_prefix: str) -> list[Operation]:
    operations: list[Operation] = []
    raw_by_name = _operations_by_python_name(spec, field_prefix)
    for tag, collection in sorted(data.endpoint_collections_by_tag.items()):
        for endpoint in collection.endpoints:
            path, method, raw = raw_by_name[str(endpoint.name)]
            spec_tag = (raw.get("tags") or [str(tag)])[0]
            params = _parameters(raw, spec["paths"][path], spec)
            header = next(
                (p for p in params if p["in"] == "header" and p["name"].lower() == IDEMPOTENCY_HEADER), None
            )
            body_keys = _body_properties(raw, spec)
            success = [r.prop for r in endpoint.responses.patterns if r.status_code.range[0] // 100 == 2]
            operations.append(
                Operation(
                    operation_id=raw["operationId"],
                    method=method.upper(),
                    path=path,
                    tag=str(tag),
                    module=str(endpoint.name),
                    namespace=namespace_name(spec_tag),
                    method_name=method_name(raw["operationId"], spec_tag),
                    security=_security(raw, spec),
                    deprecated=bool(raw.get("deprecated", False)),
                    servers=tuple(s["url"] for s in raw.get("servers", [])),
                    idempotency_header=None
                    if header is None
                    else ("required" if header.get("required") else "optional"),
                    idempotency_body_key=next((k for k in IDEMPOTENCY_BODY_KEYS if k in body_keys), None),
                    request_content_types=tuple(raw.get("requestBody", {}).get("content", {})),
                    success_types=_type_names(success),
                    request_types=_type_names([b.prop for b in endpoint.bodies]),
                    endpoint=endpoint,
                )
            )
    _check_unique_names(operations)
    return operations


def _check_unique_names(operations: list[Operation]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for op in operations:
        key = (op.namespace, op.method_name)
        if key in seen:  # e.g. two operationIds differing only by the stripped tag words
            op.method_name = method_name(op.operation_id, "")
            key = (op.namespace, op.method_name)
        seen[key] = op.operation_id


def _or_mapping(argument: str, mapping: str) -> str:
    """``body: Foo,`` → ``body: Foo | FooDict,`` (defaults such as ``= UNSET`` kept)."""
    name, rest = argument.split(":", 1)
    annotation, sep, default = rest.rstrip(",").partition("=")
    return f"{name}: {annotation.strip()} | {mapping}{' = ' + default.strip() if sep else ''},"


def _path_uuids_take_strings(args: list[str], endpoint: Endpoint) -> list[str]:
    """A ``uuid`` path parameter also takes the id as a string (``quote.id`` as Wise sent it is
    ``UUID | str``): the segment is the text either way."""
    names = {p.python_name for p in endpoint.path_parameters if isinstance(p, UuidProperty)}
    out = []
    for arg in args:
        name, colon, rest = arg.partition(":")
        if colon and name.strip() in names and rest.strip().startswith("UUID,"):
            arg = f"{name}: UUID | str,"
        out.append(arg)
    return out


def _literal_enums(args: list[str], endpoint: Endpoint) -> tuple[list[str], bool]:
    """Each enum-typed parameter also takes its values as strings: ``Status | Literal["A", "B"]``."""
    literals: dict[str, dict[str, str]] = {}
    for param in [*endpoint.query_parameters, *endpoint.path_parameters, *endpoint.header_parameters]:
        for enum in wire_types.enums_in(param):
            literals.setdefault(param.python_name, {})[enum.class_info.name] = wire_types.enum_literal(enum)
    if not literals:
        return args, False
    out = []
    for arg in args:
        name, colon, rest = arg.partition(":")
        if not colon:
            out.append(arg)
            continue
        for enum_name, literal in literals.get(name.strip(), {}).items():
            annotation, sep, default = rest.partition("=")
            annotation = re.sub(rf"\b{enum_name}\b", f"{enum_name} | {literal}", annotation)
            rest = f"{annotation}{sep}{default}"
        out.append(f"{name}:{rest}")
    return out, True


def _class_name(namespace: str) -> str:
    return "".join(part.capitalize() for part in namespace.split("_"))


_MODEL_IMPORT = re.compile(r"^from \.\.\.models\.(\w+) import (\w+)$")


def _render_namespace(
    project: Project,
    namespace: str,
    ops: list[Operation],
    dict_models: set[str],
    signatures: dict[str, tuple[list[str], set[str]]],
) -> str:
    """Render one namespace module: a plain class and its ``WithRawResponse`` twin."""
    from codegen import docs  # docs reads Operation from here

    arguments = project.env.from_string(
        '{% from "endpoint_macros.py.jinja" import arguments, kwargs %}'
        "{{ arguments(endpoint, include_client=False) }}\x00{{ kwargs(endpoint, include_client=False) }}"
    )
    runtime_imports: set[str] = set()
    type_imports: set[str] = set()
    methods: list[dict[str, str]] = []
    for op in ops:
        args_text, kwargs_text = arguments.render(endpoint=op.endpoint).split("\x00")
        args = [a.strip() for a in args_text.splitlines() if a.strip()]
        kwargs = [k.strip() for k in kwargs_text.splitlines() if k.strip()]
        header_param = None
        if op.idempotency_header == "required":
            # The facade makes Wise's required idempotency header optional: it mints one per call.
            for i, arg in enumerate(args):
                name = arg.split(":", 1)[0]
                if name.replace("_", "") == IDEMPOTENCY_HEADER.replace("-", ""):
                    header_param = name
                    args[i] = f"{name}: UUID | None = None,"
            kwargs = [
                f"{header_param}=self._idempotency_uuid({header_param}, options),"
                if k.startswith(f"{header_param}=")
                else k
                for k in kwargs
            ]
        for imp in sorted(op.endpoint.relative_imports):
            match = _MODEL_IMPORT.match(imp)
            if match:
                module, name = match.groups()
                line = f"from ..models.{module} import {name}"
                # a model used as a default value must exist at runtime; annotations need it only for typing
                if any(f"= {name}." in a for a in args):
                    runtime_imports.add(line)
                else:
                    type_imports.add(line)
            elif imp.startswith("from ...types"):
                runtime_imports.add(imp.replace("from ...types", "from ..types"))
            elif imp.startswith("from ..."):
                continue
            else:
                runtime_imports.add(imp)
        mapping_body = wire_types.mapping_body(op.endpoint)
        mapping = (
            None if mapping_body is None else request_dicts.body_annotation(mapping_body.prop, dict_models)
        )
        if mapping_body is not None and mapping is None:  # no TypedDict for it: any wire-form mapping
            many = isinstance(mapping_body.prop, ListProperty)
            mapping = "Sequence[Mapping[str, Any]]" if many else "Mapping[str, Any]"
            runtime_imports.add("from collections.abc import Mapping, Sequence")
            runtime_imports.add("from typing import Any")
        if mapping is not None:
            # the facade also takes the body in wire form (a TypedDict); Namespace checks it first
            args = [_or_mapping(a, mapping) if a.startswith("body:") else a for a in args]
            for name in sorted(set(re.findall(r"\w+Dict\b", mapping))):
                type_imports.add(f"from ..request_dicts import {name}")
        args = _path_uuids_take_strings(args, op.endpoint)
        args, literal = _literal_enums(args, op.endpoint)
        if literal:
            runtime_imports.add("from typing import Literal")
        if op.deprecated:
            runtime_imports.add("from typing_extensions import deprecated")
        signatures[op.operation_id] = (list(args), runtime_imports | type_imports)
        returns_file = op.success_types == ("File",)
        success = " | ".join(op.success_types) or "None"
        if returns_file:
            success = "bytes"
        # every method takes the per-call options (timeout, max_retries, extra_*, idempotency_key)
        signature = ", ".join(["self", *(a.rstrip(",") for a in args), "**options: Unpack[RequestOptions]"])
        call = ", ".join(k.rstrip(",") for k in kwargs)
        summary_text = op.endpoint.summary.get_untrusted_value() if op.endpoint.summary else ""
        summary = (
            (summary_text or op.operation_id).strip().splitlines()[0].replace("\\", "/").replace('"', "'")
        )
        methods.append(
            {
                "doc": docs.docstring(op, args, success),
                "name": op.method_name,
                "signature": signature,
                "success": success,
                "call": call,
                "module": op.module,
                "tag": op.tag,
                "operation_id": op.operation_id,
                "summary": summary,
                "deprecated": "True" if op.deprecated else "False",
                # PEP 702: type checkers flag the call; at run time a DeprecationWarning once per call site
                "deprecation": (
                    f"{op.operation_id} is deprecated in Wise's API spec: {DOCS}/{op.tag.replace('_', '-')}/"
                    f"{op.operation_id.lower()}"
                    if op.deprecated
                    else ""
                ),
                "binary": "True" if returns_file else "False",
                # no success body declared: an empty 2xx is the answer, not a missing one
                "empty_ok": not op.success_types
                or any(t == "Any" or "None" in t.split(" | ") for t in op.success_types),
            }
        )
    template = project.env.get_template("facade_namespace.py.jinja")
    return template.render(
        namespace=namespace,
        class_name=_class_name(namespace),
        runtime_imports=sorted(runtime_imports),
        type_imports=sorted(type_imports),
        methods=methods,
    )


def write(
    project: Project, operations: list[Operation], package_dir: Path, dict_models: set[str]
) -> dict[str, tuple[list[str], set[str]]]:
    """Write the facade and the operation table; return each operation's facade arguments and imports."""
    signatures: dict[str, tuple[list[str], set[str]]] = {}
    project.env.filters["pyrepr"] = repr
    facade_dir = package_dir / "facade"
    facade_dir.mkdir(exist_ok=True)
    by_namespace: dict[str, list[Operation]] = {}
    for op in operations:
        by_namespace.setdefault(op.namespace, []).append(op)
    for namespace, ops in sorted(by_namespace.items()):
        (facade_dir / f"{namespace}.py").write_text(
            _render_namespace(project, namespace, ops, dict_models, signatures), encoding="utf-8"
        )
    namespaces = [{"name": ns, "class_name": _class_name(ns)} for ns in sorted(by_namespace)]
    init = project.env.get_template("facade_init.py.jinja").render(namespaces=namespaces)
    (facade_dir / "__init__.py").write_text(init, encoding="utf-8")
    table = project.env.get_template("operations.py.jinja").render(operations=operations)
    (package_dir / "operations.py").write_text(table, encoding="utf-8")
    return signatures
