"""Frozen value classes that are dataclasses without compiling code when their module is imported.

``@dataclass(frozen=True)`` writes six methods per class as source text and compiles each with
``exec`` at import: about 1.5 ms a class on CPython 3.11; for our eleven value classes, ~17 of the
38 ms that ``import wise_async`` took beyond httpx. A :func:`record` class writes its own
``__init__`` (compiled into the module's ``.pyc`` like any method); equality, hashing, ``repr``,
immutability and pickling come from :class:`Record`, driven by the class's dataclass fields. The
classes stay dataclasses: ``dataclasses.fields``, ``replace``, ``asdict`` and ``FrozenInstanceError``
work as before, and type checkers see a frozen dataclass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object) -> Callable[[Any], Any]:
        return lambda decorator: decorator


__all__ = ["Record", "record"]

set_field = object.__setattr__
"""What a record's ``__init__`` stores its fields with (``self.x = ...`` raises: the record is frozen)."""


class Record:
    """Base of :func:`record` classes. Compares, hashes and shows the fields dataclass-style."""

    __slots__ = ()
    _compared: ClassVar[attrgetter[tuple[Any, ...]]]
    _shown: ClassVar[tuple[str, ...]]
    _stored: ClassVar[tuple[str, ...]]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared(self) == self._compared(other)

    def __hash__(self) -> int:
        return hash(self._compared(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{self.__class__.__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._stored)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self._stored, state, strict=True):
            set_field(self, name, value)


_R = TypeVar("_R", bound=Record)


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: type[_R]) -> type[_R]:
    """Make ``cls`` (a :class:`Record` subclass with its own ``__init__``) a frozen, slotted dataclass."""
    if "__init__" not in cls.__dict__:
        raise TypeError(f"record {cls.__qualname__} must define __init__")
    made: Any = dataclasses.dataclass(init=False, repr=False, eq=False, slots=True)(cls)
    every = dataclasses.fields(made)
    compared = tuple(field.name for field in every if field.compare)
    made._compared = attrgetter(*compared, "__class__") if compared else attrgetter("__class__")
    made._shown = tuple(field.name for field in every if field.repr)
    made._stored = tuple(field.name for field in every)
    return cast("type[_R]", made)
