"""How wise_api reads and writes JSON: exact money, tolerant formats, errors that name the field.

Copied verbatim into the generated package as ``wise_api/wire.py`` by ``codegen/generate.py``; the
generated models and endpoints call these functions (the rules that decide *where* are codegen/wire_types.py).
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

M = TypeVar("M")

__all__ = [
    "FloatMoneyError",
    "JSONBody",
    "ModelFieldError",
    "RequestBodyError",
    "best_branch",
    "check_mapping",
    "check_model",
    "check_param",
    "decimal",
    "dumps",
    "enum_member",
    "json_type",
    "loads",
    "model_from_mapping",
    "model_from_mapping_of",
    "refuse_float",
    "strict_datetime",
    "tolerant_date",
    "tolerant_datetime",
    "tolerant_uuid",
    "undeclared_keys",
]

# What a success without a schema returns: the decoded JSON, or None for an empty body.
JSONBody = dict[str, Any] | list[Any] | None


_decode = json.JSONDecoder(parse_float=Decimal).decode


def loads(content: bytes | str) -> Any:
    """JSON with every non-integer number as :class:`~decimal.Decimal` (never through ``float``)."""
    return _decode(content.decode("utf-8-sig") if isinstance(content, bytes) else content)


_encode_string = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_encode_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        out.append(format(value, "f"))  # positional notation: 1E+2 is written 100
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        raise _FloatFound  # dumps names where; a binary float never carries money to Wise
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            if not first:
                out.append(",")
            first = False
            out.append(_encode_string(key))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")


class _FloatFound(Exception):
    pass


class FloatMoneyError(ValueError):
    """A ``float`` where a request carries a number: refused before sending, naming where and what to write.

    ``0.1 + 0.2`` is ``0.30000000000000004``; Wise would be asked to move exactly that. Every ``type: number``
    in the spec is money or a rate, so request bodies and query parameters take ``Decimal``, ``int`` or a
    decimal string, never ``float``.
    """

    def __init__(self, path: str, value: float) -> None:
        self.path = path
        shortest = format(value, ".15g")  # what the float was most likely meant to be (0.1 + 0.2 → 0.3)
        super().__init__(
            f'{path}: a float ({value!r}) cannot carry an amount exactly; write Decimal("{shortest}") '
            f'or the string "{shortest}"'
        )


def _float_path(value: Any, path: str) -> tuple[str, float] | None:
    if isinstance(value, float):
        return path, value
    if isinstance(value, dict):
        for key, item in value.items():
            found = _float_path(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _float_path(item, f"{path}[{index}]")
            if found:
                return found
    return None


def dumps(value: Any, *, path: str = "body") -> bytes:
    """Compact JSON; a ``Decimal`` is written as its exact literal (``Decimal("100.10")`` → ``100.10``).

    A ``float`` anywhere raises :class:`FloatMoneyError` naming its path (``body.sourceAmount``).
    """
    out: list[str] = []
    try:
        _encode(value, out)
    except _FloatFound:
        where, number = _float_path(value, path) or (path, float("nan"))
        raise FloatMoneyError(where, number) from None
    return "".join(out).encode()


def check_param(name: str, value: Any, kind: type) -> None:
    """A query parameter of the wrong type (``"12"`` for an int): refused before sending, as in bodies."""
    if isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return
    if type(value).__name__ == "Unset":
        return
    sent = "None" if value is None else json_type(value)
    raise ValueError(f"{name}: expected {kind.__name__}, got {sent}")


def refuse_float(name: str, value: Any) -> None:
    """A ``type: number`` query parameter given as ``float``: refused like one in a body."""
    if isinstance(value, float):
        raise FloatMoneyError(name, value)


def decimal(value: Any) -> Decimal:
    """A ``type: number`` value as Decimal: from the JSON literal, an int, or a float (plain json.loads)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest literal that reads back as this float
    if isinstance(value, str):
        return Decimal(value)  # Wise sometimes quotes amounts; InvalidOperation is a ValueError
    raise TypeError(f"expected a number, got {json_type(value)}")


def enum_member(value: Any, *enums: type[Enum]) -> Any:
    """A request model's enum field as it is held (attrs converter): a value of one of ``enums``, given as
    its member or as the string, becomes the member; a list or tuple of them, a list of members. Anything
    else (``UNSET``, ``None``, a string no member has) is kept as given: ``check_model`` refuses what does not
    fit before sending, naming the field."""
    if isinstance(value, (list, tuple)):
        return [enum_member(item, *enums) for item in value]
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        for enum in enums:
            member = enum._value2member_map_.get(value)
            if member is not None:
                return member
    return value


def tolerant_uuid(value: str) -> UUID | str:
    """A ``format: uuid`` string as UUID, or unchanged when it is not one (Wise's older numeric ids)."""
    if len(value) == 36:  # the canonical form; everything else Wise sends is a legacy id
        try:
            return UUID(value)
        except ValueError:
            pass
    return value


if sys.version_info >= (3, 11):

    def _fromisoformat(value: str) -> datetime.datetime:
        return datetime.datetime.fromisoformat(value)

else:  # 3.10 reads neither "Z" nor fractions other than 3 or 6 digits

    def _fromisoformat(value: str) -> datetime.datetime:
        if value.endswith(("Z", "z")):
            value = value[:-1] + "+00:00"
        return datetime.datetime.fromisoformat(value)


def tolerant_datetime(value: str) -> datetime.datetime | str:
    """A ``format: date-time`` string as datetime (any ISO 8601 form), or unchanged when it is not one."""
    try:
        return _fromisoformat(value)
    except ValueError:
        pass
    from dateutil.parser import isoparse

    try:
        return isoparse(value)
    except (ValueError, OverflowError):
        return value


def strict_datetime(value: str) -> datetime.datetime:
    """A date-time a user sent (a request mapping): any ISO 8601 form, else ValueError."""
    parsed = tolerant_datetime(value)
    if isinstance(parsed, str):
        raise ValueError(f"not an ISO 8601 date-time: {len(value)} characters")
    return parsed


def tolerant_date(value: str) -> datetime.date | str:
    """A ``format: date`` string as date, or unchanged when it is not one."""
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return value


def best_branch(data: dict[str, Any], declared: tuple[frozenset[str], ...]) -> int:
    """The union branch declaring most of the keys ``data`` has (the first on a tie)."""
    keys = data.keys()
    best, best_score = 0, -1
    for index, names in enumerate(declared):
        score = len(keys & names)
        if score > best_score:
            best, best_score = index, score
    return best


def json_type(value: Any) -> str:
    """The JSON type of a decoded value, as a message names it (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, (float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class ModelFieldError(ValueError):
    """A field that does not have the type its model declares: where, what was expected, what came.

    ``path`` reads from the outermost model inwards (``Quote.paymentOptions.estimatedDelivery``);
    ``model_field`` is the innermost model and field (``QuotePaymentOptionsItem.estimatedDelivery``).
    The value is never included: it may be personal data.
    """

    def __init__(self, model: str, field: str, expected: str, sent: str, *, missing: bool = False) -> None:
        self.path = [model, field]
        self.model_field = f"{model}.{field}" if field else model
        self.expected = expected
        self.sent = "nothing (the field is missing)" if missing else sent
        super().__init__(self._message())

    def _message(self) -> str:
        where = ".".join(p for p in self.path if p)
        return f"{where}: expected {self.expected}, got {self.sent} (field {self.model_field})"

    def within(self, model: str, field: str) -> ModelFieldError:
        """The same error seen from the model that holds this one in ``field``."""
        self.path[:1] = [model, field]
        self.args = (self._message(),)
        return self

    def __str__(self) -> str:
        return self._message()

    @classmethod
    def at(cls, model: str, field: str, expected: str, data: Any, error: Exception) -> ModelFieldError:
        """The error for ``field`` of ``model`` while reading ``data``, or ``error`` seen from ``model``."""
        if isinstance(error, ModelFieldError):
            return error.within(model, field)
        missing = isinstance(error, KeyError) and isinstance(data, dict) and field not in data
        sent = json_type(data.get(field)) if isinstance(data, dict) and field else json_type(data)
        return cls(model, field, expected, sent, missing=missing)


def _camel(snake: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), snake)


def undeclared_keys(model: Any, path: str = "") -> list[str]:
    """Keys of a request mapping that no field of its model (or of a nested model) declares."""
    found: list[str] = []
    fields = getattr(type(model), "__attrs_attrs__", ())
    if getattr(type(model), "_wire_closed", False):
        declared = {field.name for field in fields}
        for key in getattr(model, "additional_properties", {}):
            hint = f" (did you mean {_camel(key)!r}?)" if key in declared and _camel(key) != key else ""
            found.append(f"{path}{key}{hint}")
    for field in fields:
        if field.name == "additional_properties":
            continue
        value = getattr(model, field.name)
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if hasattr(type(item), "__attrs_attrs__"):
                where = f"{path}{_camel(field.name)}" + (f"[{index}]" if isinstance(value, list) else "")
                found.extend(undeclared_keys(item, where + "."))
    return found


class RequestBodyError(ValueError):
    """A request body given as a mapping does not fit its model (missing, mistyped or undeclared keys)."""


def _expected(shape: tuple[Any, Any]) -> str:
    kind, arg = shape
    if kind == "number":
        return "Decimal | int | str"
    if kind in ("uuid",):
        return "UUID | str"
    if kind in ("date", "datetime"):
        return f"an ISO 8601 {'date' if kind == 'date' else 'date-time'} string"
    if kind == "enum":
        return "one of " + ", ".join(repr(v) for v in arg)
    if kind == "const":
        return repr(arg)
    if kind == "model":
        return f"an object ({arg}Dict)"
    if kind == "list":
        return f"a list of {_expected(arg)}"
    if kind == "map":
        return f"an object of {_expected(arg)}"
    if kind == "union":
        return " | ".join(_expected(s) for s in arg)
    if kind == "none":
        return "None"
    return kind


def _nullable(shape: tuple[Any, Any]) -> bool:
    kind, arg = shape
    return kind == "none" or kind == "any" or (kind == "union" and any(_nullable(s) for s in arg))


_SIMPLE: dict[str, Any] = {"str": str, "bool": bool, "date": str, "datetime": str}


def _check_value(
    shapes: Mapping[str, Any], shape: tuple[Any, Any], value: Any, path: str, closed: bool = True
) -> str | None:
    """What is wrong with ``value`` for ``shape`` (a message naming ``path``), or None when it fits."""
    kind, arg = shape
    if value is None and not _nullable(shape):
        return (
            f"{path}: expected {_expected(shape)}, got null; the spec does not allow null here: "
            "leave the key out to not send it"
        )
    if kind == "any":
        return None
    if kind in _SIMPLE:
        if isinstance(value, _SIMPLE[kind]):
            return None
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return None
    elif kind == "number":
        if isinstance(value, float):
            return str(FloatMoneyError(path, value))
        if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
            return None
        if isinstance(value, str):
            try:
                if Decimal(value).is_finite():
                    return None
            except ArithmeticError:
                pass
            return f"{path}: expected {_expected(shape)}, got a string that is not a decimal number"
    elif kind == "uuid":
        if isinstance(value, UUID):
            return None
        if isinstance(value, str):
            try:
                UUID(value)
                return None
            except ValueError:
                return f"{path}: expected {_expected(shape)}, got a string that is not a UUID"
    elif kind == "enum":
        if value in arg and not isinstance(value, bool):
            return None
        if isinstance(value, str):
            shown = repr(value) if len(value) <= 40 else f"{value[:40]!r}..."
            return f"{path}: expected {_expected(shape)}, got {shown}, not among them"
    elif kind == "const":
        if value == arg:
            return None
    elif kind == "none":
        if value is None:
            return None
    elif kind == "model":
        return _check_model(shapes, arg, value, path, closed=closed)
    elif kind == "list":
        if isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                problem = _check_value(shapes, arg, item, f"{path}[{index}]", closed)
                if problem:
                    return problem
            return None
    elif kind == "map":
        if isinstance(value, Mapping):
            for key, item in value.items():
                problem = _check_value(shapes, arg, item, f"{path}.{key}", closed)
                if problem:
                    return problem
            return None
    elif kind == "union":
        problems = [_check_value(shapes, branch, value, path, closed) for branch in arg]
        if None in problems:
            return None
        # a value of the right kind for one branch: that branch's own complaint says most
        for branch, problem in zip(arg, problems, strict=True):
            if _kind_matches(branch, value):
                return problem
    return f"{path}: expected {_expected(shape)}, got {json_type(value)}"


def _kind_matches(shape: tuple[Any, Any], value: Any) -> bool:
    kind = shape[0]
    if kind in ("model", "map"):
        return isinstance(value, Mapping)
    if kind == "list":
        return isinstance(value, (list, tuple))
    if kind == "enum":
        return isinstance(value, str)
    return kind == "number" and isinstance(value, (float, str))


def _check_model(
    shapes: Mapping[str, Any], name: str, data: Any, path: str, *, closed: bool = True
) -> str | None:
    if not isinstance(data, Mapping):
        return f"{path}: expected an object ({name}Dict), got {json_type(data)}"
    fields, takes_undeclared = shapes[name]
    for key, (shape, required) in fields.items():
        if key in data:
            problem = _check_value(shapes, shape, data[key], f"{path}.{key}", closed)
            if problem:
                return problem
        elif required:
            return f"{path}.{key}: expected {_expected(shape)}, got nothing (the field is missing)"
    if closed and not takes_undeclared:
        unknown = []
        for key in data:
            if key not in fields:
                camel = _camel(key) if isinstance(key, str) else key
                snake = camel != key and camel in fields
                hint = f" (a snake_case key: Wise's name is {camel!r})" if snake else ""
                unknown.append(f"{key}{hint}")
        if unknown:
            return f"{path}: undeclared keys {', '.join(unknown)}"
    return None


def check_model(model: Any, path: str = "") -> None:
    """Refuse ``None`` in a request model's field whose spec allows no null, then any value not of its
    declared type in the body as it will be sent (a ``str`` in an int field): RequestBodyError naming it.

    One rule for ``None`` everywhere (models, mappings, parameters): it is sent as JSON null where the spec
    allows null, and refused elsewhere; leaving a field out (``UNSET``, the default) is how not to send it.
    """
    cls = type(model)
    fields = getattr(cls, "__attrs_attrs__", None)
    if fields is None:
        return
    from .request_shapes import SHAPES

    module = sys.modules.get(cls.__module__)
    types: Mapping[str, str] = getattr(module, "_FIELD_TYPES", {})
    names: Mapping[str, str] = getattr(module, "_JSON_NAMES", {})
    shapes = SHAPES[cls.__name__][0] if cls.__name__ in SHAPES else {}
    where = path or cls.__name__
    for field in fields:
        value = getattr(model, field.name)
        if field.converter is not None and value is not None and type(value).__name__ != "Unset":
            # an enum field (wire_types.request_enums_take_strings): a string no member has stays a string,
            # refused here with its path (to_dict would fail on it without one)
            key = names.get(field.name, field.name)
            if key in shapes:
                problem = _check_value(SHAPES, shapes[key][0], value, f"{where}.{key}")
                if problem:
                    raise RequestBodyError(problem)
        if value is None:
            key = names.get(field.name, field.name)
            declared = types.get(key, "None")
            if "None" not in declared.split(" | "):
                raise RequestBodyError(
                    f"{where}.{key}: expected {declared.replace(' | Unset', '')}, got None; the spec does "
                    "not allow null here: leave the field out (UNSET, the default) to not send it"
                )
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if hasattr(type(item), "__attrs_attrs__"):
                    check_model(item, f"{where}.{names.get(field.name, field.name)}[{index}]")
        elif hasattr(type(value), "__attrs_attrs__"):
            check_model(value, f"{where}.{names.get(field.name, field.name)}")
    if not path and cls.__name__ in SHAPES:  # the whole body, as it will be sent: each value of its type
        problem = _check_model(SHAPES, cls.__name__, model.to_dict(), cls.__name__, closed=False)
        if problem:
            raise RequestBodyError(problem)


def check_mapping(model: str, data: Mapping[str, Any]) -> None:
    """Refuse a request mapping that does not fit ``model``'s wire form (RequestBodyError naming the path):
    a missing or undeclared key (a snake_case one named with its camelCase spelling), a value of the wrong
    type (a ``str`` where Wise wants an int, a ``float`` for money), ``None`` where the spec has no null."""
    from .request_shapes import SHAPES

    if model in SHAPES:
        problem = _check_model(SHAPES, model, data, model)
        if problem:
            raise RequestBodyError(problem)


def model_from_mapping(model: type[M], data: Mapping[str, Any]) -> M:
    """``data`` (camelCase keys, as Wise documents them) as ``model``; RequestBodyError if it does not fit."""
    check_mapping(model.__name__, data)
    try:
        parsed = model.from_dict(data)  # type: ignore[attr-defined]
    except ModelFieldError as exc:
        raise RequestBodyError(str(exc)) from exc
    unknown = undeclared_keys(parsed)
    if unknown:
        raise RequestBodyError(f"{model.__name__}: undeclared keys {', '.join(unknown)}")
    return parsed  # type: ignore[no-any-return]


def model_from_mapping_of(models: tuple[type[Any], ...], data: Mapping[str, Any]) -> Any:
    """``data`` as the first of ``models`` it fits (request bodies that are a union without a tag)."""
    problems = []
    for model in models:
        try:
            return model_from_mapping(model, data)
        except RequestBodyError as exc:
            problems.append(str(exc))
    raise RequestBodyError("the body fits none of its forms: " + "; ".join(problems))
