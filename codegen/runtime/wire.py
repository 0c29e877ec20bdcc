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
from typing import Any, TypeVar
from uuid import UUID

M = TypeVar("M")

__all__ = [
    "JSONBody",
    "ModelFieldError",
    "best_branch",
    "decimal",
    "dumps",
    "json_type",
    "loads",
    "model_from_mapping",
    "model_from_mapping_of",
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
        out.append(json.dumps(value))  # rejects nan/inf like Decimal above
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


def dumps(value: Any) -> bytes:
    """Compact JSON; a ``Decimal`` is written as its exact literal (``Decimal("100.10")`` → ``100.10``)."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode()


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


def model_from_mapping(model: type[M], data: Mapping[str, Any]) -> M:
    """``data`` (camelCase keys, as Wise documents them) as ``model``; RequestBodyError if it does not fit."""
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
