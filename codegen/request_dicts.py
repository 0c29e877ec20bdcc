"""Request bodies as the wire writes them: a ``TypedDict`` per request model, and its shape for run time.

From the parsed request models (codegen/wire_types.request_models) this renders two modules:

* ``wise_api/request_dicts.py``: for every model a user sends, ``<Model>Dict``, a ``TypedDict`` with the
  camelCase keys Wise documents, ``Required``/``NotRequired`` as the spec says, money as
  ``Decimal | int | str`` (never ``float``), enums as ``<Enum> | Literal[...]``, nested objects as their own
  ``...Dict``. Imported by the facade for type checkers only: it costs nothing at run time.
* ``wise_api/request_shapes.py``: the same shapes as data (``SHAPES``), read by ``wire.check_mapping`` when a
  body is given as a mapping, so a value of the wrong type is refused before anything is sent, naming its
  path. Imported on the first mapping body only.

One walk (``_shape``) gives both, so the type a checker sees and the check run time makes cannot differ.
"""

from __future__ import annotations

import keyword
from pathlib import Path
from typing import Any

from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.properties import (
    AnyProperty,
    BooleanProperty,
    ConstProperty,
    DateProperty,
    DateTimeProperty,
    EnumProperty,
    FileProperty,
    IntProperty,
    ListProperty,
    ModelProperty,
    StringProperty,
    UnionProperty,
    UuidProperty,
)

from codegen import wire_types

# A run-time shape is a small tuple: (kind, argument). Kinds: "str", "int", "bool", "number", "uuid",
# "date", "datetime", "any", "none", "enum" (allowed values), "const" (the value), "model" (its name),
# "list" (the item shape), "map" (the value shape), "union" (the branch shapes).
Shape = tuple[Any, ...]


def dict_name(model_name: str) -> str:
    return f"{model_name}Dict"


class _Walker:
    def __init__(self, models: dict[str, ModelProperty], names: set[str]) -> None:
        self.models = models
        self.names = names  # request models: each has a TypedDict
        self.enum_imports: set[str] = set()

    def shape(self, prop: Any) -> tuple[str, Shape]:
        """The TypedDict value type and the run-time shape of one property."""
        if getattr(prop, "wire_decimal", False):
            return "Decimal | int | str", ("number", None)
        if isinstance(prop, UnionProperty):
            types: list[str] = []
            shapes: list[Shape] = []
            for inner in prop.inner_properties:
                t, s = self.shape(inner)
                for part in t.split(" | ") if "[" not in t else [t]:
                    if part not in types:
                        types.append(part)
                shapes.append(s)
            return " | ".join(types), ("union", tuple(shapes))
        if type(prop).__name__ == "NoneProperty":
            return "None", ("none", None)
        if isinstance(prop, ConstProperty):
            raw = prop.value.raw_value
            return f"Literal[{raw!r}]", ("const", raw)
        if isinstance(prop, EnumProperty):
            self.enum_imports.add(prop.class_info.name)
            literal = wire_types.enum_literal(prop)
            return f"{prop.class_info.name} | {literal}", ("enum", tuple(prop.values.values()))
        if isinstance(prop, BooleanProperty):
            return "bool", ("bool", None)
        if isinstance(prop, IntProperty):
            return "int", ("int", None)
        if isinstance(prop, UuidProperty):
            return "UUID | str", ("uuid", None)
        if isinstance(prop, DateTimeProperty):
            return "str", ("datetime", None)
        if isinstance(prop, DateProperty):
            return "str", ("date", None)
        if isinstance(prop, StringProperty):
            return "str", ("str", None)
        if isinstance(prop, ListProperty):
            t, s = self.shape(prop.inner_property)
            return f"list[{t}]", ("list", s)
        if isinstance(prop, ModelProperty):
            name = prop.class_info.name
            model = self.models.get(name, prop)
            declared = [*(model.required_properties or []), *(model.optional_properties or [])]
            extra = model.additional_properties
            if not declared and extra is not None and not isinstance(extra, bool):
                t, s = self.shape(extra)
                return f"dict[str, {t}]", ("map", s)
            if name in self.names:
                # An object Wise leaves open (recipient ``details``: its keys depend on the currency) takes
                # any mapping too, as it does at run time; its declared keys are still offered.
                if _takes_undeclared(model, declared):
                    return f"{dict_name(name)} | Mapping[str, object]", ("model", name)
                return dict_name(name), ("model", name)
            return "dict[str, Any]", ("any", None)
        if isinstance(prop, FileProperty):
            return "Any", ("any", None)
        if isinstance(prop, AnyProperty):
            return "Any", ("any", None)
        return "Any", ("any", None)


def _takes_undeclared(model: ModelProperty, declared: list[Any]) -> bool:
    """As the model template decides ``_wire_closed``: declared fields, no additionalProperties → closed."""
    return not (declared and model.data.additionalProperties is None)


def _fields(model: ModelProperty) -> list[tuple[Any, bool]]:
    return [
        *((p, True) for p in model.required_properties or []),
        *((p, False) for p in model.optional_properties or []),
    ]


def _typed_dict(name: str, entries: list[tuple[str, str]]) -> str:
    """Class syntax (annotations stay strings at run time); the functional form for keys that are not
    identifiers, its values quoted for the same reason."""
    doc = f"The wire form of ``wise_api.models.{name}``: camelCase keys, as Wise documents them."
    if all(key.isidentifier() and not keyword.iskeyword(key) for key, _ in entries):
        fields = "".join(f"    {key}: {t}\n" for key, t in entries) if entries else ""
        return f'class {dict_name(name)}(TypedDict):\n    """{doc}"""\n\n{fields}'
    body = "".join(f"        {key!r}: {t!r},\n" for key, t in entries)
    head = f'{dict_name(name)} = TypedDict(\n    "{dict_name(name)}",\n'
    return f'{head}    {{\n{body}    }},\n)\n"""{doc}"""\n'


def render(data: GeneratorData) -> tuple[str, str, list[str]]:
    """The TypedDict module, the shapes module, and the names of the models given a TypedDict."""
    models = {m.class_info.name: m for m in data.models}
    names = {n for n in wire_types.request_models(data) if n in models}
    walker = _Walker(models, names)
    classes: list[str] = []
    shapes: list[str] = []
    for name in sorted(names):
        model = models[name]
        entries: list[tuple[str, str]] = []
        keys: list[str] = []
        for prop, required in _fields(model):
            key = wire_types._json_name(prop)
            t, s = walker.shape(prop)
            entries.append((key, f"Required[{t}]" if required else f"NotRequired[{t}]"))
            keys.append(f"            {key!r}: ({s!r}, {required!r}),")
        takes_undeclared = _takes_undeclared(model, entries)
        classes.append(_typed_dict(name, entries))
        fields = "\n".join(keys)
        shapes.append(
            f"    {name!r}: (\n        {{\n{fields}\n        }},\n        {takes_undeclared!r},\n    ),"
        )
    enum_imports = "\n".join(f"    from .models import {enum}" for enum in sorted(walker.enum_imports))
    typed = (
        '"""Request bodies as mappings: a TypedDict per request model, keys as Wise writes them\n'
        "(generated by codegen/request_dicts.py; do not edit). For type checkers: ``body={...}`` is\n"
        'checked like the model."""\n\n'
        "from __future__ import annotations\n\n"
        "from collections.abc import Mapping\n"
        "from decimal import Decimal\n"
        "from typing import TYPE_CHECKING, Any, Literal\n"
        "from uuid import UUID\n\n"
        "from typing_extensions import NotRequired, Required, TypedDict\n\n"
        f"if TYPE_CHECKING:\n{enum_imports or '    pass'}\n\n"
        f"__all__ = {sorted(dict_name(n) for n in names)!r}\n\n\n" + "\n\n".join(classes)
    )
    shape_module = (
        '"""The request models\' fields as data, for ``wire.check_mapping`` (generated by\n'
        "codegen/request_dicts.py; do not edit): model name → ({json key: (shape, required)},\n"
        'takes undeclared keys)."""\n\n'
        "from typing import Any\n\n"
        "SHAPES: dict[str, tuple[dict[str, tuple[Any, bool]], bool]] = {\n" + "\n".join(shapes) + "\n}\n"
    )
    return typed, shape_module, sorted(names)


def write(data: GeneratorData, package_dir: Path) -> set[str]:
    typed, shape_module, names = render(data)
    (package_dir / "request_dicts.py").write_text(typed, encoding="utf-8")
    (package_dir / "request_shapes.py").write_text(shape_module, encoding="utf-8")
    return set(names)


def body_annotation(prop: Any, names: set[str]) -> str | None:
    """The facade's extra ``body`` type for mappings: ``FooDict``, a union of them, or a list of them."""
    if isinstance(prop, ListProperty):
        inner = body_annotation(prop.inner_property, names)
        return None if inner is None else f"list[{inner}]"
    if isinstance(prop, ModelProperty):
        return dict_name(prop.class_info.name) if prop.class_info.name in names else None
    if isinstance(prop, UnionProperty):
        parts = [body_annotation(p, names) for p in prop.inner_properties]
        found = [p for p in parts if p]
        return " | ".join(found) if found else None
    return None
