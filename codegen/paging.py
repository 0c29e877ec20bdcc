"""The paging table and the typed iterators, derived from the spec's paged list operations.

An operation is paged when one of its query parameters is a cursor Wise documents (``CURSORS``); its
page-size parameter, the largest size the spec allows, where the response holds the items and (for
styles that need it) the next cursor and the total count are read from the parsed operation. Renders:

* ``wise_api/paging.py``: ``PAGED``, operationId → the style's arguments, read by
  ``wise_async.pagination`` to build its strategies;
* ``wise_api/iterators.py``: ``PagedIterators``, one ``iter_<namespace>`` per paged operation whose
  arguments are the facade method's (path parameters, then every filter as a typed keyword), mixed into
  ``WiseClient``.

An operation with a page-size parameter but no known cursor is a paging shape the table does not know:
``unknown_shapes`` names it and ``make generate``/``make regenerate`` print it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.properties import ListProperty, ModelProperty

from codegen.facade import Operation

# cursor query parameter → (style, response field naming the next cursor, the paging's name)
CURSORS: dict[str, tuple[str, str | None, str]] = {
    "seekPosition": ("cursor", "seekPositionForNext", "seekPosition"),
    "nextCursor": ("cursor", "cursor", "cursor"),
    "offset": ("offset", None, "offset"),
    "lastId": ("lastId", None, "lastId"),
    "pageNumber": ("pageNumber", None, "pageNumber"),
}
SIZES = ("size", "pageSize", "limit")
TOTAL_FIELD = "totalCount"
DEFAULT_MAX_SIZE = 100


@dataclass(frozen=True)
class Paged:
    operation: Operation
    style: str
    cursor_name: str  # the paging's name (seekPosition, cursor, offset ...)
    cursor_param: str  # its Python keyword
    size_param: str
    max_size: int
    items_field: str | None
    item_type: str
    next_field: str | None
    total_field: str | None


def _wire(prop: Any) -> str:
    name = prop.name
    return str(name.get_untrusted_value() if hasattr(name, "get_untrusted_value") else name)


def _fields(model: ModelProperty) -> list[Any]:
    return [*(model.required_properties or []), *(model.optional_properties or [])]


def _success(operation: Operation) -> Any:
    return next(
        (r.prop for r in operation.endpoint.responses.patterns if r.status_code.range[0] // 100 == 2), None
    )


def classify(
    operations: list[Operation], data: GeneratorData, spec: dict[str, Any]
) -> tuple[list[Paged], list[str]]:
    """The paged operations, and the operations whose paging shape the table does not know."""
    models = {m.class_info.name: m for m in data.models}
    paged: list[Paged] = []
    unknown: list[str] = []
    for op in operations:
        query = {_wire(p): p for p in op.endpoint.query_parameters}
        cursor = next((name for name in CURSORS if name in query), None)
        size = next((name for name in SIZES if name in query), None)
        if cursor is None:
            if size is not None and op.method == "GET":
                unknown.append(f"{op.operation_id} (has {size!r}, no cursor the table knows)")
            continue
        style, next_name, paging_name = CURSORS[cursor]
        success = _success(op)
        items_field, item_type, next_field, total_field = None, "Any", None, None
        if isinstance(success, ListProperty):
            item_type = success.inner_property.get_type_string(no_optional=True).as_unembedded_code()
        elif isinstance(success, ModelProperty):
            fields = _fields(models.get(success.class_info.name, success))
            lists = [p for p in fields if isinstance(p, ListProperty)]
            if len(lists) == 1:
                items_field = str(lists[0].python_name)
                item_type = lists[0].inner_property.get_type_string(no_optional=True).as_unembedded_code()
            by_wire = {_wire(p): str(p.python_name) for p in fields}
            next_field = by_wire.get(next_name) if next_name else None
            total_field = by_wire.get(TOTAL_FIELD)
        if size is None or item_type == "Any" or (next_name and next_field is None):
            unknown.append(f"{op.operation_id} (cursor {cursor!r}, but no page size or items list)")
            continue
        maximum = _schema_of(spec, op, size).get("maximum")
        paged.append(
            Paged(
                operation=op,
                style=style,
                cursor_name=paging_name,
                cursor_param=str(query[cursor].python_name),
                size_param=str(query[size].python_name),
                max_size=int(maximum) if isinstance(maximum, int) else DEFAULT_MAX_SIZE,
                items_field=items_field,
                item_type=item_type,
                next_field=next_field,
                total_field=total_field,
            )
        )
    return paged, unknown


def _schema_of(spec: dict[str, Any], op: Operation, name: str) -> dict[str, Any]:
    item = spec["paths"][op.path]
    for param in [*item.get("parameters", []), *item[op.method.lower()].get("parameters", [])]:
        if "$ref" in param:
            param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
        if param.get("in") == "query" and param.get("name") == name:
            schema: dict[str, Any] = param.get("schema", {})
            return schema
    return {}


def render_table(paged: list[Paged]) -> str:
    rows = [
        f"    {p.operation.operation_id!r}: ({p.style!r}, {p.cursor_name!r}, {p.cursor_param!r}, "
        f"{p.size_param!r}, {p.max_size!r}, {p.items_field!r}, {p.next_field!r}, {p.total_field!r}),"
        for p in paged
    ]
    return (
        '"""Every paged operation of the spec (generated by codegen/paging.py; do not edit): operationId →\n'
        "(style, cursor name, cursor keyword, page-size keyword, largest page size, items field,\n"
        "next-cursor field, total-count field). ``wise_async.pagination`` builds its strategies\n"
        'from it."""\n\n'
        "PAGED: dict[str, tuple[str, str, str, str, int, str | None, str | None, str | None]] = {\n"
        + "\n".join(rows)
        + "\n}\n"
    )


def iterator_name(op: Operation) -> str:
    return f"iter_{op.namespace}"


def method_parts(
    args: list[str],
) -> tuple[list[str], list[str], list[str]]:
    """Split the facade's argument lines into positional ones, keyword ones and the keyword names."""
    positional: list[str] = []
    keywords: list[str] = []
    names: list[str] = []
    seen_star = False
    for arg in args:
        arg = arg.rstrip(",")
        if arg == "*":
            seen_star = True
            continue
        if arg.startswith("**"):
            continue
        name = arg.split(":", 1)[0].strip()
        if seen_star:
            keywords.append(arg)
            names.append(name)
        else:
            positional.append(arg)
    return positional, keywords, names


_STYLE_WORDS = {"cursor": "cursor", "offset": "offset/limit", "lastId": "lastId", "pageNumber": "pageNumber"}


def render_iterators(paged: list[Paged], signatures: dict[str, tuple[list[str], set[str]]]) -> str:
    imports: set[str] = set()
    methods: list[str] = []
    for p in paged:
        op = p.operation
        args, op_imports = signatures[op.operation_id]
        imports |= op_imports
        positional, keywords, names = method_parts(args)
        # a filter the caller leaves out is not sent (the spec's defaults, e.g. a page size of 10, are not
        # the paginator's: it asks for the largest page)
        keywords = [k.split("=", 1)[0].rstrip() + " = UNSET" if "=" in k else k for k in keywords]
        params = ", ".join(
            [
                "self",
                *positional,
                "*",
                *keywords,
                "max_items: int | None = None",
                "max_pages: int | None = None",
            ]
        )
        given = ", ".join(f"{n}={n}" for n in names)
        call = ", ".join(
            [
                repr(op.operation_id),
                *(a.split(":", 1)[0].strip() for a in positional),
                "max_items=max_items",
                "max_pages=max_pages",
                f"**_given({given})",
            ]
        )
        doc = (
            f"Every item of ``wise.{op.namespace}.{op.method_name}`` (``{op.operation_id}``, "
            f"{_STYLE_WORDS[p.style]} paging, up to {p.max_size} a page), its filters as keywords."
        )
        methods.append(
            f"    def {iterator_name(op)}({params}) -> AsyncPaginator[{p.item_type}]:\n"
            f'        """{doc}"""\n'
            f"        return self.paginate({call})\n"
        )
    # annotations only (``from __future__ import annotations``): nothing but ``UNSET`` is needed at run time
    typed = sorted(
        i.replace("from ..", "from .")
        for i in imports
        if not i.startswith(
            ("from ..types", "from ..request_dicts", "from typing_extensions", "from typing ")
        )
        and "Mapping" not in i
    )
    items = sorted({name for p in paged for name in _names(p.item_type)})
    typed += [
        f"from .models import {name}" for name in items if not any(t.endswith(f" {name}") for t in typed)
    ]
    return (
        '"""The typed iterators of ``WiseClient`` (``wise.iter_recipients()`` ...), one per paged operation\n'
        '(generated by codegen/paging.py from the spec; do not edit)."""\n\n'
        "from __future__ import annotations\n\n"
        "from typing import TYPE_CHECKING, Any, Literal\n\n"
        "from .types import UNSET, Unset\n\n"
        "if TYPE_CHECKING:\n"
        "    from wise_async.pagination import AsyncPaginator\n\n"
        + "".join(f"    {i}\n" for i in sorted(set(typed)))
        + "\n\n"
        "def _given(**params: Any) -> dict[str, Any]:\n"
        '    """The keywords the caller gave (``UNSET`` ones left out, so ``next_params`` stay short)."""\n'
        "    return {name: value for name, value in params.items() if not isinstance(value, Unset)}\n\n\n"
        "class PagedIterators:\n"
        '    """``iter_*`` for every paged operation; ``paginate`` comes from ``WiseClient``."""\n\n'
        "    def paginate(\n"
        "        self, operation_id: str, *args: Any, max_items: int | None = None,"
        " max_pages: int | None = None, **params: Any\n"
        "    ) -> AsyncPaginator[Any]:\n"
        "        raise NotImplementedError\n\n" + "\n".join(methods)
    )


def _names(type_string: str) -> list[str]:
    return [part.strip() for part in type_string.split("|") if part.strip()[:1].isupper()]


def write(
    operations: list[Operation],
    data: GeneratorData,
    spec: dict[str, Any],
    signatures: dict[str, tuple[list[str], set[str]]],
    package_dir: Path,
) -> list[str]:
    """Write the paging table and the iterators; return the paging shapes the table does not know."""
    paged, unknown = classify(operations, data, spec)
    (package_dir / "paging.py").write_text(render_table(paged), encoding="utf-8")
    (package_dir / "iterators.py").write_text(render_iterators(paged, signatures), encoding="utf-8")
    return unknown
