"""How generated types meet what Wise really sends: the parse-time rules of the pipeline.

openapi-python-client follows the spec to the letter; Wise does not. After parsing (and before anything
is rendered) ``apply`` rewrites the parsed properties by these rules, each a function below, keyed on
the shape of the spec and never on a particular operation or field:

* ``money_is_decimal``: every ``type: number`` is ``Decimal``, parsed from the JSON literal, never
  through ``float``; integers stay ``int``.
* ``returned_resources_have_ids``: the ``id`` of a resource an operation returns is typed present.
* ``request_uuids_take_strings``: a request ``uuid`` field takes ``UUID | str``.
* ``request_enums_take_strings``: a request model's enum field (or list of them) also takes the values as
  strings, ``Status | Literal["A", "B"]``, converted to the member when the model is built.
* ``sent_optional_fields_read_none``: in models Wise sends (responses, webhooks),
  an optional field that is absent or ``null`` reads as ``None``; request models keep ``UNSET`` vs
  ``None`` exactly.
* ``sent_formats_keep_strings``: in models Wise sends, a ``uuid``/``date``/``date-time`` string
  that does not satisfy its format keeps its string value (typed ``UUID | str`` ...).
* ``sent_enums_accept_unknown``: enums in models Wise sends take values added later as ``UNKNOWN``
  members; requests stay strict.
* ``schemaless_success_is_json``: a 2xx without a schema returns the decoded JSON (``None`` if empty).
* unions are chosen, not tried: ``union_dispatch`` gives the generated parser the branch for a payload
  (a discriminating tag, else the branch declaring most of the keys present), so no branch is parsed
  on trial and enum leniency cannot pick the wrong one.

Two rules live where they act: a 2xx the spec does not declare is parsed with the operation's declared
success schema (``_parse_response`` in templates/endpoint_module.py.jinja), and body keys the SDK fills
itself are optional in request models (``normalize.sdk_filled_body_keys_optional``).

Variants are the parser's own property classes with a few methods overridden, so every consumer (model
and endpoint templates, the facade, the surface lock) sees the same final types.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.properties import (
    AnyProperty,
    ConstProperty,
    DateProperty,
    DateTimeProperty,
    EnumProperty,
    FloatProperty,
    ListProperty,
    ModelProperty,
    UnionProperty,
    UuidProperty,
)
from openapi_python_client.parser.properties.protocol import PropertyProtocol, Value
from openapi_python_client.parser.responses import NONE_SOURCE
from openapi_python_client.strings import PythonCode

JSON_BODY_TYPE = "dict[str, Any] | list[Any] | None"


# --- variants: the parser's property classes with our types and templates ------------------------------


def _type_with_none(type_string: str) -> str:
    return type_string if "None" in type_string.split(" | ") else f"{type_string} | None"


class _Decimal:
    __slots__ = ()
    wire_decimal = True
    template = "decimal_property.py.jinja"

    def get_base_type_string(self) -> PythonCode:
        return PythonCode("Decimal")

    def get_base_json_type_string(self) -> PythonCode:
        return PythonCode("Decimal")

    def get_imports(self, *, prefix: str) -> set[str]:
        return {*super().get_imports(prefix=prefix), "from decimal import Decimal"}  # type: ignore[misc]


class _TolerantFormat:
    """A formatted string in a model Wise sends: the parsed value, or the string when it is not one."""

    __slots__ = ()
    wire_tolerant_format = True

    def get_base_type_string(self) -> PythonCode:
        return PythonCode(f"{super().get_base_type_string().as_unembedded_code()} | str")  # type: ignore[misc]

    def get_instance_type_string(self) -> PythonCode:
        return PythonCode(f"({super().get_base_type_string().as_unembedded_code()}, str)")  # type: ignore[misc]


class _Present:
    """A field Wise always sends although the spec leaves it optional (see returned_resources_have_ids)."""

    __slots__ = ()
    wire_present = True


class _UuidOrString:
    """A request ``uuid`` field that takes a UUID or its string; either is sent as the string."""

    __slots__ = ()

    def get_base_type_string(self) -> PythonCode:
        return PythonCode("UUID | str")

    def get_instance_type_string(self) -> PythonCode:
        return PythonCode("(UUID, str)")


class _LenientEnum:
    __slots__ = ()
    wire_lenient_enum = True


class _EnumTakesStrings:
    """A request model's field holding enums: attrs converts a value given as a string to its member
    (``wire.enum_member``, through the module's ``_as_<field>`` function), so the constructor takes
    ``Status | Literal["A", "B"]`` while the attribute reads back as the member."""

    __slots__ = ()
    wire_enum_converter = True

    @property
    def wire_converter(self) -> str:
        return f"_as_{self.python_name}"  # type: ignore[attr-defined]

    @property
    def wire_enums(self) -> list[str]:
        return list(dict.fromkeys(e.class_info.name for e in enums_in(self)))

    @property
    def wire_accepts(self) -> str:
        """The type the constructor takes: each enum also as its values (lists as any sequence)."""
        accepted = _accepted_type(self)
        return accepted if self.required else f"{accepted} | Unset"  # type: ignore[attr-defined]

    def to_string(self) -> PythonCode:
        declared = super().to_string().as_unembedded_code()  # type: ignore[misc]
        annotation, _, default = declared.partition(" = ")
        default = f"default={default}, " if default else ""
        return PythonCode(f"{annotation} = _attrs_field({default}converter={self.wire_converter})")


def enums_in(prop: Any) -> Iterator[Any]:
    """The enums a property holds: itself, its list's items, its union's branches."""
    if isinstance(prop, EnumProperty):
        yield prop
    elif isinstance(prop, ListProperty):
        yield from enums_in(prop.inner_property)
    elif isinstance(prop, UnionProperty):
        for inner in prop.inner_properties:
            yield from enums_in(inner)


def _holds_enum(prop: Any) -> bool:
    return next(enums_in(prop), None) is not None


def enum_literal(enum: EnumProperty) -> str:
    """``Literal["A", "B"]``: an enum's values as the strings a type checker accepts for it."""
    return f"Literal[{', '.join(repr(v) for v in enum.values.values())}]"


def _accepted_type(prop: Any) -> str:
    if isinstance(prop, EnumProperty):
        return f"{prop.class_info.name} | {enum_literal(prop)}"
    if isinstance(prop, ListProperty) and _holds_enum(prop):
        return f"Sequence[{_accepted_type(prop.inner_property)}]"
    if isinstance(prop, UnionProperty):
        return " | ".join(dict.fromkeys(_accepted_type(inner) for inner in prop.inner_properties))
    return prop.get_type_string(no_optional=True).as_unembedded_code()  # type: ignore[no-any-return]


class _AbsentIsNone:
    """An optional field of a model Wise sends: ``None`` when absent or null, no ``Unset``.

    ``required`` is set on the copy so the value templates treat it as present once the model template
    has checked for ``None``.
    """

    __slots__ = ()
    wire_absent_is_none = True

    def get_type_string(self, no_optional: bool = False, json: bool = False) -> PythonCode:
        base = super().get_type_string(no_optional=True, json=json)  # type: ignore[misc]
        return base if no_optional else PythonCode(_type_with_none(base.as_unembedded_code()))

    def to_string(self) -> PythonCode:
        return PythonCode(f"{self.python_name}: {self.get_type_string().as_unembedded_code()} = None")  # type: ignore[attr-defined]


class _JsonBody:
    """A success response without a schema: the decoded JSON."""

    __slots__ = ()
    wire_json_body = True

    def get_base_type_string(self) -> PythonCode:
        return PythonCode(JSON_BODY_TYPE)

    def get_type_string(self, no_optional: bool = False, json: bool = False) -> PythonCode:
        return PythonCode(JSON_BODY_TYPE)

    def get_imports(self, *, prefix: str) -> set[str]:
        return {"from typing import Any"}


_VARIANT_CLASSES: dict[tuple[type, type], type] = {}


def variant(prop: Any, trait: type, **changes: Any) -> Any:
    """A copy of ``prop`` whose class also has ``trait`` (same slots, so the copy keeps every field)."""
    if isinstance(prop, trait):
        new = copy.copy(prop)
    else:
        base = type(prop)
        cls = _VARIANT_CLASSES.get((base, trait))
        if cls is None:
            name = f"{trait.__name__.lstrip('_')}{base.__name__}"
            cls = type(name, (trait, base), {"__slots__": ()})
            _VARIANT_CLASSES[(base, trait)] = cls
        new = copy.copy(prop)
        new.__class__ = cls
    for key, value in changes.items():
        object.__setattr__(new, key, value)
    return new


def _without(prop: Any, trait: type) -> Any:
    """A copy of ``prop`` as the class it had before ``variant(prop, trait)``."""
    new = copy.copy(prop)
    new.__class__ = next(base for base in type(prop).__mro__[1:] if not issubclass(base, trait))
    return new


# --- walking the parsed data --------------------------------------------------------------------------

Rewrite = Callable[[Any], Any]


def _rewrite(prop: Any, fn: Rewrite) -> Any:
    """Apply ``fn`` to ``prop`` and, depth first, to the properties inside lists and unions."""
    if isinstance(prop, ListProperty):
        object.__setattr__(prop, "inner_property", _rewrite(prop.inner_property, fn))
    elif isinstance(prop, UnionProperty):
        object.__setattr__(prop, "inner_properties", [_rewrite(p, fn) for p in prop.inner_properties])
    return fn(prop)


def _rewrite_model_fields(model: ModelProperty, fn: Rewrite, *, top: Rewrite | None = None) -> None:
    for name in ("required_properties", "optional_properties"):
        props = getattr(model, name)
        if props:
            props[:] = [(top or (lambda p: p))(_rewrite(p, fn)) for p in props]
    extra = model.additional_properties
    if extra is not None and not isinstance(extra, bool):
        object.__setattr__(model, "additional_properties", _rewrite(extra, fn))


def _endpoints(data: GeneratorData) -> Iterator[Any]:
    for collection in data.endpoint_collections_by_tag.values():
        yield from collection.endpoints


def _referenced_models(prop: Any) -> Iterator[str]:
    if isinstance(prop, ModelProperty):
        yield prop.class_info.name
    elif isinstance(prop, ListProperty):
        yield from _referenced_models(prop.inner_property)
    elif isinstance(prop, UnionProperty):
        for inner in prop.inner_properties:
            yield from _referenced_models(inner)


def _reachable(data: GeneratorData, roots: list[str]) -> set[str]:
    models = {m.class_info.name: m for m in data.models}
    found: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in found or name not in models:
            continue
        found.add(name)
        model = models[name]
        for prop in [*(model.required_properties or []), *(model.optional_properties or [])]:
            pending.extend(_referenced_models(prop))
        if model.additional_properties is not None and not isinstance(model.additional_properties, bool):
            pending.extend(_referenced_models(model.additional_properties))
    return found


def request_models(data: GeneratorData) -> set[str]:
    """Class names of the models reachable from a request body: the models a user sends."""
    return _reachable(
        data, [n for e in _endpoints(data) for b in e.bodies for n in _referenced_models(b.prop)]
    )


def _webhook_models(data: GeneratorData, spec: dict[str, Any]) -> list[str]:
    """Models of the component schemas the spec's ``webhooks`` reference (payloads Wise sends)."""
    refs: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                refs.add(ref[1:])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(spec.get("webhooks", {}))
    return [
        m.class_info.name
        for m in data.models
        if any(getattr(r, "get_untrusted_value", lambda r=r: r)() in refs for r in m.roots)
    ]


def sent_models(data: GeneratorData, spec: dict[str, Any]) -> list[ModelProperty]:
    """The models Wise sends: reachable from a response or a webhook and from no request body.

    Models a user sends (and models nothing references) keep exact ``UNSET``/``None`` semantics.
    """
    roots = [n for e in _endpoints(data) for r in e.responses for n in _referenced_models(r.prop)]
    sent = _reachable(data, roots + _webhook_models(data, spec)) - request_models(data)
    return [m for m in data.models if m.class_info.name in sent]


# --- the rules ----------------------------------------------------------------------------------------


def money_is_decimal(data: GeneratorData, sent: list[ModelProperty]) -> int:
    """Every ``type: number`` property (models, parameters, bodies, responses) becomes ``Decimal``."""
    changed = 0

    def to_decimal(prop: Any) -> Any:
        nonlocal changed
        if isinstance(prop, FloatProperty):
            changed += 1
            default = prop.default
            if default is not None:
                literal = (
                    repr(default.raw_value) if not isinstance(default.raw_value, str) else default.raw_value
                )
                default = Value(python_code=PythonCode(f'Decimal("{literal}")'), raw_value=default.raw_value)
            return variant(prop, _Decimal, default=default)
        return prop

    for model in data.models:
        _rewrite_model_fields(model, to_decimal)
    for endpoint in _endpoints(data):
        for name in ("query_parameters", "path_parameters", "header_parameters", "cookie_parameters"):
            params = getattr(endpoint, name)
            params[:] = [_rewrite(p, to_decimal) for p in params]
            if any(isinstance(p, _Decimal) for p in params):
                endpoint.relative_imports.add("from decimal import Decimal")
        for body in endpoint.bodies:
            object.__setattr__(body, "prop", _rewrite(body.prop, to_decimal))
        for response in endpoint.responses:
            object.__setattr__(response, "prop", _rewrite(response.prop, to_decimal))
    return changed


def sent_optional_fields_read_none(data: GeneratorData, sent: list[ModelProperty]) -> int:
    """Optional fields of the models Wise sends read as ``None`` when absent or ``null``."""
    changed = 0

    def absent_is_none(prop: Any) -> Any:
        nonlocal changed
        if prop.required or prop.default is not None:
            return prop
        changed += 1
        return variant(prop, _AbsentIsNone, required=True)

    for model in sent:
        _rewrite_model_fields(model, lambda p: p, top=absent_is_none)
    return changed


def returned_resources_have_ids(data: GeneratorData, sent: list[ModelProperty]) -> int:
    """The ``id`` of a resource an operation returns (its success model, list item or union branch) is
    always present: typed ``T``, not ``T | None``, so it passes straight into the next call.

    Wise's spec leaves almost every response field optional; a resource without its id is unusable,
    and a response missing it fails as a validation error naming the field.
    """
    models = {m.class_info.name: m for m in data.models}
    sent_names = {m.class_info.name for m in sent}
    returned: set[str] = set()
    for endpoint in _endpoints(data):
        for response in endpoint.responses.patterns:
            if 200 <= response.status_code.range[0] < 300:
                returned.update(_referenced_models(response.prop))
    changed = 0
    for name in sorted(returned & sent_names):
        model = models[name]
        optional = model.optional_properties or []
        for prop in [p for p in optional if _json_name(p) == "id" and p.default is None]:
            optional.remove(prop)
            if model.required_properties is None:
                object.__setattr__(model, "required_properties", [])
            model.required_properties.append(variant(prop, _Present, required=True))
            changed += 1
    return changed


def request_uuids_take_strings(data: GeneratorData, sent: list[ModelProperty]) -> int:
    """A ``uuid`` field of a request model also takes the id as a string (``quote.id`` as Wise sent it)."""
    changed = 0
    sent_names = {m.class_info.name for m in sent}

    def widen(prop: Any) -> Any:
        nonlocal changed
        if isinstance(prop, UuidProperty) and not isinstance(prop, _TolerantFormat):
            changed += 1
            return variant(prop, _UuidOrString)
        return prop

    for model in data.models:
        if model.class_info.name not in sent_names:
            _rewrite_model_fields(model, widen)
    return changed


def request_enums_take_strings(data: GeneratorData, sent: list[ModelProperty]) -> int:
    """An enum field of a request model also takes its values as strings (``legal_type="PRIVATE"``), as
    enum parameters and dict bodies do; the model holds the member (an unknown string is kept as given,
    and ``wire.check_model`` refuses it before sending, naming the field)."""
    changed = 0
    sent_names = {m.class_info.name for m in sent}

    def takes_strings(prop: Any) -> Any:
        nonlocal changed
        if _holds_enum(prop):
            changed += 1
            return variant(prop, _EnumTakesStrings)
        return prop

    for model in data.models:
        if model.class_info.name not in sent_names:
            _rewrite_model_fields(model, lambda p: p, top=takes_strings)
    return changed


def sent_formats_keep_strings(data: GeneratorData, sent: list[ModelProperty]) -> int:
    """``uuid``/``date``/``date-time`` strings in the models Wise sends keep a value that is not one."""
    changed = 0

    def tolerant(prop: Any) -> Any:
        nonlocal changed
        if isinstance(prop, (UuidProperty, DateProperty, DateTimeProperty)):
            changed += 1
            return variant(prop, _TolerantFormat)
        return prop

    for model in sent:
        _rewrite_model_fields(model, tolerant)
    return changed


def sent_enums_accept_unknown(data: GeneratorData, sent: list[ModelProperty]) -> int:
    """Enums in the models Wise sends parse values added later as ``UNKNOWN`` members."""
    changed = 0

    def lenient(prop: Any) -> Any:
        nonlocal changed
        if isinstance(prop, EnumProperty):
            changed += 1
            return variant(prop, _LenientEnum)
        if isinstance(prop, UnionProperty):  # enums tried in turn: only the last may take any value
            enums = [i for i, p in enumerate(prop.inner_properties) if isinstance(p, _LenientEnum)]
            for index in enums[:-1]:
                prop.inner_properties[index] = _without(prop.inner_properties[index], _LenientEnum)
                changed -= 1
        return prop

    for model in sent:
        _rewrite_model_fields(model, lenient)
    for endpoint in _endpoints(data):
        for response in endpoint.responses:
            object.__setattr__(response, "prop", _rewrite(response.prop, lenient))
    return changed


def schemaless_success_is_json(data: GeneratorData, sent: list[ModelProperty]) -> int:
    """A 2xx response without a schema returns the decoded JSON body (``None`` when empty)."""
    changed = 0
    for endpoint in _endpoints(data):
        for response in endpoint.responses.patterns:
            low = response.status_code.range[0]
            if 200 <= low < 300 and response.source == NONE_SOURCE and isinstance(response.prop, AnyProperty):
                object.__setattr__(response, "prop", variant(response.prop, _JsonBody))
                endpoint.relative_imports.add("from typing import Any")
                changed += 1
    return changed


RULES: list[tuple[Callable[[GeneratorData, list[ModelProperty]], int], str]] = [
    (money_is_decimal, "number properties typed Decimal"),
    (returned_resources_have_ids, "ids of returned resources always present"),
    (request_uuids_take_strings, "uuid fields of request models take strings too"),
    (request_enums_take_strings, "enum fields of request models take their values as strings too"),
    (sent_formats_keep_strings, "formatted strings in sent models keep non-conforming values"),
    (sent_enums_accept_unknown, "enums in sent models accept values added later"),
    (sent_optional_fields_read_none, "optional fields of sent models read None"),
    (schemaless_success_is_json, "schema-less 2xx responses return decoded JSON"),
]


def apply(data: GeneratorData, spec: dict[str, Any]) -> list[tuple[str, int]]:
    """Apply every rule in order; return (rule name, number of properties changed)."""
    sent = sent_models(data, spec)
    return [(rule.__name__, rule(data, sent)) for rule, _ in RULES]


# --- unions: which branch a payload belongs to --------------------------------------------------------


@dataclass(frozen=True)
class Dispatch:
    """How the generated parser picks a union branch without trying them.

    ``tag``: the JSON property whose value names the branch (``tags``: value → branch index), from a
    property that is a single-value enum or a const in every branch. Without one, ``keys``: per branch,
    the JSON keys it declares; a payload goes to the branch declaring most of its keys (first on a tie).
    """

    branches: list[Any]
    tag: str | None
    tags: dict[str, int]
    keys: list[frozenset[str]]


def _single_value(prop: PropertyProtocol) -> str | None:
    if isinstance(prop, EnumProperty) and len(prop.values) == 1:
        return str(next(iter(prop.values.values())))
    if isinstance(prop, ConstProperty):
        return str(prop.value.raw_value)
    return None


def union_dispatch(union: UnionProperty, models: dict[str, ModelProperty]) -> Dispatch | None:
    """The dispatch for a union whose branches are all models; ``None`` for other unions."""
    branches = [p for p in union.inner_properties if not _is_none(p)]
    if len(branches) < 2 or not all(isinstance(p, ModelProperty) for p in branches):
        return None
    fields: list[dict[str, PropertyProtocol]] = []
    for branch in branches:
        model = models.get(branch.class_info.name, branch)
        props = [*(model.required_properties or []), *(model.optional_properties or [])]
        fields.append({_json_name(p): p for p in props})
    for name in fields[0]:
        values = [_single_value(f[name]) if name in f else None for f in fields]
        if all(v is not None for v in values) and len(set(values)) == len(values):
            return Dispatch(branches, tag=name, tags={str(v): i for i, v in enumerate(values)}, keys=[])
    return Dispatch(branches, tag=None, tags={}, keys=[frozenset(f) for f in fields])


def _json_name(prop: PropertyProtocol) -> str:
    name: Any = prop.name
    return name.get_untrusted_value() if hasattr(name, "get_untrusted_value") else str(name)


def _is_none(prop: PropertyProtocol) -> bool:
    return type(prop).__name__ == "NoneProperty"


def mapping_body(endpoint: Any) -> Any:
    """The body a facade call may also take as mappings: a model, a union of models, or a list of them."""
    for body in endpoint.bodies:
        prop = body.prop.inner_property if isinstance(body.prop, ListProperty) else body.prop
        if isinstance(prop, ModelProperty) or (
            isinstance(prop, UnionProperty)
            and any(isinstance(p, ModelProperty) for p in prop.inner_properties)
        ):
            return body
    return None
