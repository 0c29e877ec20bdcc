"""Which generated enums may accept a value this SDK does not know yet.

Wise adds enum values (a new activity status, a new card state) without notice; a client that fails to
parse the whole response then fails a payment flow for a cosmetic reason. So enums parse leniently: an
unknown value becomes a member of its own (``.value`` is Wise's string), and only requests are checked
strictly. The exception are enums reachable from a union member: the generated union parser tells the
branches apart by trying each, and a lenient enum would let the wrong branch succeed.
"""

from __future__ import annotations

from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.properties import EnumProperty, ListProperty, ModelProperty, UnionProperty
from openapi_python_client.parser.properties.protocol import PropertyProtocol


def enums_under_unions(data: GeneratorData) -> set[str]:
    """Class names of the enums that must stay strict (reachable from a union member)."""
    models = {model.class_info.name: model for model in data.models}
    strict: set[str] = set()
    seen: set[tuple[str, bool]] = set()

    def visit(prop: PropertyProtocol, under_union: bool) -> None:
        if isinstance(prop, EnumProperty):
            if under_union:
                strict.add(prop.class_info.name)
        elif isinstance(prop, ModelProperty):
            model = models.get(prop.class_info.name, prop)
            key = (model.class_info.name, under_union)
            if key in seen:
                return
            seen.add(key)
            for inner in [*(model.required_properties or []), *(model.optional_properties or [])]:
                visit(inner, under_union)
        elif isinstance(prop, UnionProperty):
            for inner in prop.inner_properties:
                visit(inner, True)
        elif isinstance(prop, ListProperty):
            visit(prop.inner_property, under_union)

    for model in data.models:
        visit(model, False)
    for collection in data.endpoint_collections_by_tag.values():
        for endpoint in collection.endpoints:
            for response in endpoint.responses.patterns:
                visit(response.prop, False)
            for body in endpoint.bodies:
                visit(body.prop, False)
    return strict
