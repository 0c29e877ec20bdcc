"""The webhook event table, rendered from the spec's ``webhooks`` section into ``wise_api.webhook_events``.

Each webhook event (``transfers#state-change``) names one envelope schema per schema version, either as
a ``oneOf`` with a ``schema_version`` discriminator or as a single schema whose ``schema_version`` is an
enum/const. openapi-python-client already generates those envelopes and their ``data`` models; this
module writes the table that maps ``(event_type, schema_version)`` to them, and one class per event
(``TransfersStateChangeData``) that every version's ``data`` model is registered with, so
``isinstance`` and ``match`` work across versions. ``wise_async.webhooks`` dispatches through the table;
a webhook field Wise adds reaches users with the next ``make generate``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.properties import ModelProperty

from codegen.normalize import Spec, class_name

MODULE = "webhook_events.py"


class WebhookTableError(ValueError):
    """The ``webhooks`` section names a schema the generator produced no model for."""


@dataclass(frozen=True)
class EventVersion:
    event_type: str
    schema_version: str
    envelope: str  # class name of the whole delivery body
    envelope_module: str
    data: str  # class name of its ``data`` object
    data_module: str
    data_fields: tuple[str, ...]  # python names of the data model's properties
    data_types: tuple[str, ...] = ()  # their types, in the same order
    data_imports: frozenset[str] = frozenset()  # what those types need (relative to wise_api)


def event_class_name(event_type: str) -> str:
    """``transfers#state-change`` → ``TransfersStateChangeData``."""
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^0-9A-Za-z]+", event_type) if word) + (
        "Data"
    )


def _component(spec: Spec, ref: str) -> tuple[str, dict[str, Any]]:
    key = ref.rsplit("/", 1)[-1]
    return key, spec["components"]["schemas"][key]


def _versions_of(spec: Spec, schema: dict[str, Any]) -> list[tuple[str, str]]:
    """``[(schema_version, component key)]`` named by one webhook's body schema."""
    if "$ref" in schema:
        key, component = _component(spec, schema["$ref"])
        version_schema = component.get("properties", {}).get("schema_version", {})
        values = version_schema.get("enum") or (
            [version_schema["const"]] if "const" in version_schema else []
        )
        return [(str(v), key) for v in values]
    mapping = schema.get("discriminator", {}).get("mapping", {})
    found = [(str(version), _component(spec, ref)[0]) for version, ref in mapping.items()]
    if not found:
        for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
            if isinstance(branch, dict):
                found += _versions_of(spec, branch)
    return found


def event_versions(spec: Spec) -> Iterator[tuple[str, str, str]]:
    """``(event_type, schema_version, envelope component key)`` for every webhook the spec describes."""
    for event_type, item in sorted(spec.get("webhooks", {}).items()):
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            schema = next(iter(content.values()), {}).get("schema", {})
            for version, key in sorted(_versions_of(spec, schema)):
                yield event_type, version, key


def collect(spec: Spec, data: GeneratorData) -> list[EventVersion]:
    """Every ``(event_type, schema_version)`` of the normalized ``spec`` with its generated models."""
    models = {m.class_info.name: m for m in data.models}
    events: list[EventVersion] = []
    for event_type, version, key in event_versions(spec):
        component = spec["components"]["schemas"][key]
        envelope = models.get(class_name(component.get("title") or key))
        if envelope is None:
            raise WebhookTableError(f"{event_type} {version}: no model generated for schema {key!r}")
        data_prop = next(
            (
                p
                for p in [*envelope.required_properties, *envelope.optional_properties]
                if p.name == "data" and isinstance(p, ModelProperty)
            ),
            None,
        )
        if data_prop is None:
            raise WebhookTableError(f"{event_type} {version}: envelope has no 'data' object")
        data_model = models[data_prop.class_info.name]
        fields = [*data_model.required_properties, *data_model.optional_properties]
        events.append(
            EventVersion(
                event_type=event_type,
                schema_version=version,
                envelope=envelope.class_info.name,
                envelope_module=envelope.class_info.module_name,
                data=data_model.class_info.name,
                data_module=data_model.class_info.module_name,
                data_fields=tuple(str(p.python_name) for p in fields),
                data_types=tuple(p.get_type_string().as_unembedded_code() for p in fields),
                data_imports=frozenset(
                    i
                    for p in fields
                    for i in [*p.get_imports(prefix="."), *p.get_lazy_imports(prefix=".")]
                    if not i.startswith(("from typing", "from .types", "from .. "))
                ),
            )
        )
    return events


def render(events: list[EventVersion]) -> str:
    """The source of ``wise_api/webhook_events.py``."""
    lines = [
        '"""Webhook events from the spec\'s ``webhooks`` section (generated: codegen/webhook_events.py)"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any, Final",
        "",
    ]
    imported = sorted(
        {(e.envelope_module, e.envelope) for e in events} | {(e.data_module, e.data) for e in events}
    )
    lines += [f"from .models.{module} import {name}" for module, name in imported]
    by_event: dict[str, list[EventVersion]] = {}
    for event in events:
        by_event.setdefault(event.event_type, []).append(event)
    if by_event:
        lines.append(f"from .webhook_data import {', '.join(sorted(event_class_name(t) for t in by_event))}")
    lines += ["", ""]
    lines.append("#: (event_type, schema_version) → (envelope model, ``data`` model)")
    lines.append("EVENTS: Final[dict[tuple[str, str], tuple[type[Any], type[Any]]]] = {")
    lines += [f'    ("{e.event_type}", "{e.schema_version}"): ({e.envelope}, {e.data}),' for e in events]
    lines.append("}")
    lines.append("#: Any event's ``data`` model")
    union = " | ".join(e.data for e in events) or "Any"
    lines.append(f"EventData = {union}")
    lines.append("#: event_type → the class every schema version's ``data`` model is registered with")
    lines.append("EVENT_CLASSES: Final[dict[str, type[Any]]] = {")
    lines += [f'    "{event_type}": {event_class_name(event_type)},' for event_type in by_event]
    lines.append("}")
    names = sorted(
        {event_class_name(t) for t in by_event} | {e.data for e in events} | {e.envelope for e in events}
    )
    lines.append("")
    lines.append("__all__ = [")
    lines += [f'    "{name}",' for name in ["EVENTS", "EVENT_CLASSES", "EventData", *names]]
    lines.append("]")
    return "\n".join(lines) + "\n"


def _union(types: list[str]) -> str:
    parts: list[str] = []
    for type_string in types:
        for part in type_string.split(" | ") if "[" not in type_string else [type_string]:
            if part not in parts:
                parts.append(part)
    return " | ".join([p for p in parts if p != "None"] + (["None"] if "None" in parts else []))


def render_bases(events: list[EventVersion]) -> str:
    """The source of ``wise_api/webhook_data.py``: per event the base class of every version's ``data``
    model, its fields typed as the union of the versions' types, so ``match`` narrows statically."""
    by_event: dict[str, list[EventVersion]] = {}
    for event in events:
        by_event.setdefault(event.event_type, []).append(event)
    imports = sorted({i for e in events for i in e.data_imports})
    lines = [
        '"""Per webhook event, the base class of its ``data`` models in every schema version (generated:',
        "codegen/webhook_events.py). ``case TransfersStateChangeData(resource=r)`` narrows to the versions'",
        'models, with their fields\' types."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import TYPE_CHECKING",
        "",
        "if TYPE_CHECKING:",
        *(f"    {i}" for i in imports or ["pass"]),
    ]
    for event_type, versions in by_event.items():
        common = [f for f in versions[0].data_fields if all(f in v.data_fields for v in versions[1:])]
        shown = ", ".join(v.schema_version for v in versions)
        lines += ["", "", f"class {event_class_name(event_type)}:"]
        lines.append(f'    """``data`` of ``{event_type}`` in any schema version ({shown})."""')
        lines.append("")
        lines.append("    __slots__ = ()")
        for name in common:
            types = [v.data_types[v.data_fields.index(name)] for v in versions]
            lines.append(f"    {name}: {_union(types)}")
    lines += ["", "", "__all__ = ["] + [f'    "{event_class_name(t)}",' for t in sorted(by_event)] + ["]"]
    return "\n".join(lines) + "\n"


def bases(spec: Spec, data: GeneratorData) -> dict[str, str]:
    """``data`` model class name → the event base class it derives from (read by the model template)."""
    return {e.data: event_class_name(e.event_type) for e in collect(spec, data)}


def write(spec: Spec, data: GeneratorData, package_dir: Path) -> list[EventVersion]:
    events = collect(spec, data)
    (package_dir / MODULE).write_text(render(events), encoding="utf-8")
    (package_dir / "webhook_data.py").write_text(render_bases(events), encoding="utf-8")
    return events
