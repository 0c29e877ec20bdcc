"""Each fix of codegen/normalize.py on a tiny hand-made spec, then all of them on the real bundle."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

from codegen import normalize as nz
from codegen.normalize import Spec, class_name

# --- helpers -------------------------------------------------------------------------------------


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def op(operation_id: str, *, request: dict[str, Any] | None = None, **responses: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "responses": {}}
    if request is not None:
        operation["requestBody"] = json_body(request)
    for code, schema in responses.items():
        operation["responses"][code.removeprefix("r")] = {"description": "ok", **json_body(schema)}
    return operation


def spec_of(paths: dict[str, Any] | None = None, schemas: dict[str, Any] | None = None, **extra: Any) -> Spec:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths or {},
        "components": {"schemas": schemas or {}},
        **extra,
    }


def component_class_names(spec: Spec) -> list[str]:
    schemas = spec["components"]["schemas"]
    return [class_name(s.get("title") or k) for k, s in schemas.items()]


def all_refs(node: Any) -> list[Any]:
    """Every ``$ref`` value in the document, examples included."""
    found: list[Any] = []
    if isinstance(node, dict):
        if "$ref" in node:
            found.append(node["$ref"])
        for value in node.values():
            found.extend(all_refs(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(all_refs(value))
    return found


def resolve(spec: Spec, pointer: str) -> Any:
    node: Any = spec
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


# --- drop_non_pointer_example_refs ---------------------------------------------------------------


def test_example_with_non_pointer_ref_is_dropped_and_schema_kept() -> None:
    dynamic = {"type": "object", "properties": {"step": {"type": "string"}}}
    media = {
        "schema": dynamic,
        "example": {"layout": [{"type": "button", "action": {"$ref": "continue"}}]},
    }
    spec = spec_of(
        {"/flow": {"post": {"operationId": "flowStep", "responses": {"200": {"content": {"x": media}}}}}}
    )

    assert nz.drop_non_pointer_example_refs(spec) == 1

    assert "example" not in media
    assert media["schema"] == dynamic
    assert all(isinstance(r, str) and r.startswith("#/") for r in all_refs(spec))


def test_named_examples_keep_pointers_and_lose_non_pointers() -> None:
    examples = {
        "good": {"value": {"id": 1}},
        "pointer": {"$ref": "#/components/examples/Shared"},
        "bad": {"value": {"next": {"$ref": "continue"}}},
        "not_a_string": {"value": {"$ref": 42}},
    }
    media = {"schema": {"type": "object"}, "examples": examples}
    spec = spec_of({"/x": {"get": {"operationId": "x", "responses": {"200": {"content": {"y": media}}}}}})

    assert nz.drop_non_pointer_example_refs(spec) == 2

    assert sorted(examples) == ["good", "pointer"]


def test_schema_level_example_and_schema_refs_are_handled() -> None:
    schemas = {
        "Step": {
            "type": "object",
            "properties": {"next": ref("Other")},
            "example": {"next": {"$ref": "continue"}},
        },
        "Other": {"type": "object", "example": {"id": 7}},
    }
    spec = spec_of(schemas=schemas)

    assert nz.drop_non_pointer_example_refs(spec) == 1

    assert "example" not in schemas["Step"]
    assert schemas["Step"]["properties"]["next"] == ref("Other")  # real schema refs are never touched
    assert schemas["Other"]["example"] == {"id": 7}
    assert nz.drop_non_pointer_example_refs(spec) == 0


# --- hoist_shared_response_schemas ---------------------------------------------------------------


def test_shared_inline_response_schema_is_hoisted_once() -> None:
    too_many = {"type": "object", "properties": {"error": {"type": "string"}}}
    spec = spec_of(
        {
            "/a": {"get": {"operationId": "a", "responses": {"429": {"$ref": "#/components/responses/429"}}}},
            "/b": {"get": {"operationId": "b", "responses": {"429": {"$ref": "#/components/responses/429"}}}},
        },
        schemas={"Existing": {"type": "object"}},
    )
    spec["components"]["responses"] = {
        "429": {"description": "Too many requests", "content": {"application/json": {"schema": too_many}}},
        "NotFound": {"description": "gone", "content": {"application/json": {"schema": ref("Existing")}}},
        "Empty": {"description": "no body"},
    }

    assert nz.hoist_shared_response_schemas(spec) == 1

    schemas = spec["components"]["schemas"]
    assert schemas["SharedResponse429"] == too_many
    response = spec["components"]["responses"]["429"]["content"]["application/json"]
    assert response["schema"] == ref("SharedResponse429")
    assert spec["components"]["responses"]["NotFound"]["content"]["application/json"]["schema"] == ref(
        "Existing"
    )
    assert nz.hoist_shared_response_schemas(spec) == 0  # idempotent: the schema is a $ref now


def test_hoisting_creates_components_when_absent() -> None:
    spec: Spec = {"openapi": "3.1.0", "paths": {}}
    assert nz.hoist_shared_response_schemas(spec) == 0
    assert spec["components"] == {"schemas": {}}


# --- unique_component_model_names ----------------------------------------------------------------


def test_colliding_titles_are_renamed_after_their_only_referrer() -> None:
    schemas = {
        "Profile": {"title": "Profile", "type": "object"},
        "profile-v2": {"title": "Profile", "type": "object"},
        "profile-v3": {"title": "Profile", "type": "object"},
    }
    spec = spec_of(
        {"/p": {"get": op("profileGet", r200=ref("Profile"))}},
        schemas,
        webhooks={
            "profiles#verification-state-change": {"post": {"requestBody": json_body(ref("profile-v2"))}}
        },
    )
    spec["paths"]["/p3"] = {"get": op("profileGetV3", r200=ref("profile-v3"))}

    assert nz.unique_component_model_names(spec) == 2

    assert schemas["Profile"]["title"] == "Profile"  # its key already is its class name: it keeps it
    assert schemas["profile-v2"]["title"] == "profiles verification state change Profile"
    assert schemas["profile-v3"]["title"] == "profileGetV3 Profile"
    names = component_class_names(spec)
    assert names == ["Profile", "ProfilesVerificationStateChangeProfile", "ProfileGetV3Profile"]


def test_keys_differing_only_in_case_are_renamed_after_shared_referrer_words() -> None:
    schemas = {
        "Address": {"type": "object", "properties": {"city": {"type": "string"}}},
        "address": {"type": "object", "properties": {"line": {"type": "string"}}},
        "Holder": {"type": "object", "properties": {"home": ref("address")}},
    }
    spec = spec_of(
        {
            "/personal": {"post": op("personalProfileCreate", request=ref("address"))},
            "/business": {"post": op("businessProfileCreate", request=ref("address"))},
            "/a": {"get": op("addressGet", r200=ref("Address"))},
        },
        schemas,
    )
    assert class_name("address") == class_name("Address")  # the collision under test

    assert nz.unique_component_model_names(spec) == 1

    assert "title" not in schemas["Address"]
    # referrers: personalProfileCreate, businessProfileCreate, Holder → no common word → falls back
    assert schemas["address"]["title"] == "address 2"
    assert len({n.lower() for n in component_class_names(spec)}) == len(schemas)


def test_shared_referrer_words_name_the_renamed_schema() -> None:
    schemas = {
        "Details": {"type": "object"},
        "details": {"type": "object"},
    }
    spec = spec_of(
        {
            "/personal": {"post": op("personalProfileCreate", request=ref("details"))},
            "/business": {"post": op("businessProfileCreate", request=ref("details"))},
        },
        schemas,
    )

    assert nz.unique_component_model_names(spec) == 1

    assert schemas["details"]["title"] == "profile create details"
    assert component_class_names(spec) == ["Details", "ProfileCreateDetails"]


def test_unreferenced_collisions_are_numbered_and_deterministic() -> None:
    schemas = {
        "a-thing": {"title": "Thing", "type": "object"},
        "b-thing": {"title": "Thing", "type": "object"},
        "c_thing": {"title": "thing", "type": "object"},
    }
    spec = spec_of(schemas=schemas)
    again = copy.deepcopy(spec)

    assert nz.unique_component_model_names(spec) == 3  # none is canonical: every one is renamed

    assert [s["title"] for s in schemas.values()] == ["Thing 1", "Thing 2", "thing 3"]
    nz.unique_component_model_names(again)
    assert again == spec
    assert nz.unique_component_model_names(spec) == 0


def test_renaming_never_lands_on_an_existing_name() -> None:
    schemas = {
        "Card": {"title": "Card", "type": "object"},
        "card-v2": {"title": "Card", "type": "object"},
        "CardGetCard": {"type": "object"},  # what the referrer-derived name would have been
    }
    spec = spec_of({"/c": {"get": op("cardGet", r200=ref("card-v2"))}}, schemas)

    assert nz.unique_component_model_names(spec) == 1

    assert schemas["card-v2"]["title"] == "Card 2"
    names = component_class_names(spec)
    assert len({n.lower() for n in names}) == len(names)


def test_examples_are_not_counted_as_referrers() -> None:
    schemas = {"Note": {"title": "Note"}, "note-v2": {"title": "Note"}}
    operation = op("noteGet", r200=ref("note-v2"))
    operation["responses"]["200"]["content"]["application/json"]["example"] = {"$ref": ref("note-v2")["$ref"]}
    other = op("otherGet", r200={"type": "object"})
    other["responses"]["200"]["content"]["application/json"]["example"] = ref("note-v2")
    spec = spec_of({"/n": {"get": operation}, "/o": {"get": other}}, schemas)

    assert nz.schema_referrers(spec)["note-v2"] == ["noteGet"]
    nz.unique_component_model_names(spec)
    assert schemas["note-v2"]["title"] == "noteGet Note"


# --- unique_inline_titles_per_operation ----------------------------------------------------------


def test_inline_title_shared_by_request_and_response_gets_its_part_appended() -> None:
    request = {"title": "Personal", "type": "object", "properties": {"name": {"type": "string"}}}
    created = {"title": "Personal", "type": "object", "properties": {"id": {"type": "integer"}}}
    invalid = {"title": "Personal", "type": "object", "properties": {"errors": {"type": "array"}}}
    spec = spec_of({"/profiles": {"post": op("profileCreate", request=request, r200=created, r422=invalid)}})

    assert nz.unique_inline_titles_per_operation(spec) == 3

    assert [request["title"], created["title"], invalid["title"]] == [
        "Personal Request",
        "Personal Response200",
        "Personal Response422",
    ]
    assert nz.unique_inline_titles_per_operation(spec) == 0


def test_inline_titles_left_alone_when_unique_or_in_one_part_or_in_refs_and_examples() -> None:
    request = {"title": "Body", "type": "object"}
    ok = {
        "type": "object",
        "properties": {
            "a": {"title": "Same", "type": "object"},
            "b": {"title": "Same", "type": "object"},  # one part only: the generator prefixes nested names
        },
    }
    failed = {"title": "Other", "type": "object"}
    operation = op("thingCreate", request=request, r200=ok, r400=failed)
    operation["requestBody"]["content"]["application/json"]["example"] = {"title": "Other"}
    operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["c"] = {
        "title": "Body",
        "$ref": "#/components/schemas/Body",
    }
    spec = spec_of({"/things": {"post": operation}})
    before = copy.deepcopy(spec)

    assert nz.unique_inline_titles_per_operation(spec) == 0
    assert spec == before


def test_inline_titles_are_compared_per_operation_only() -> None:
    spec = spec_of(
        {
            "/a": {"post": op("aCreate", request={"title": "Item"})},
            "/b": {"get": op("bGet", r200={"title": "Item"})},
        }
    )
    assert nz.unique_inline_titles_per_operation(spec) == 0


# --- the pipeline --------------------------------------------------------------------------------


def test_normalize_runs_every_registered_fix_in_order() -> None:
    spec = spec_of()
    report = nz.normalize(spec)
    assert [name for name, _ in report] == [fix.__name__ for fix, _ in nz.FIXES]
    assert all(reason for _, reason in nz.FIXES)


def test_normalize_main_writes_json_and_reports(tmp_path: Any, capsys: Any) -> None:
    source = tmp_path / "in.yaml"
    source.write_text(
        "openapi: 3.1.0\npaths: {}\ncomponents:\n  schemas:\n    A: {title: X}\n    B: {title: X}\n",
        encoding="utf-8",
    )
    target = tmp_path / "out.json"

    assert nz.main(["normalize", str(source), str(target)]) == 0

    written = nz.load_spec(target)  # JSON is YAML
    assert written["components"]["schemas"]["B"]["title"] == "X 2"
    out = capsys.readouterr().out
    assert "unique_component_model_names: 2" in out
    assert len(out.splitlines()) == len(nz.FIXES)


# --- the real bundle -----------------------------------------------------------------------------


def test_real_bundle_has_only_pointer_refs_after_normalize(normalized_bundle: tuple[Spec, Any]) -> None:
    spec, _ = normalized_bundle
    refs = all_refs(spec)
    bad = [r for r in refs if not (isinstance(r, str) and r.startswith("#/"))]
    assert not bad, f"non-pointer $ref left after normalize: {bad[:5]}"
    unresolved = sorted({r for r in refs if _unresolvable(spec, r)})
    assert not unresolved, f"$ref pointing nowhere: {unresolved[:5]}"


def _unresolvable(spec: Spec, pointer: str) -> bool:
    try:
        resolve(spec, pointer)
    except (KeyError, IndexError, TypeError):
        return True
    return False


def test_real_bundle_component_class_names_are_unique(normalized_bundle: tuple[Spec, Any]) -> None:
    spec, _ = normalized_bundle
    counts = Counter(n.lower() for n in component_class_names(spec))
    assert not [n for n, c in counts.items() if c > 1]


def test_real_bundle_inline_titles_unique_across_parts_of_each_operation(
    normalized_bundle: tuple[Spec, Any],
) -> None:
    spec, _ = normalized_bundle
    assert nz.unique_inline_titles_per_operation(copy.deepcopy(spec)) == 0


def test_real_bundle_shared_responses_are_refs(normalized_bundle: tuple[Spec, Any]) -> None:
    spec, _ = normalized_bundle
    for name, response in spec["components"].get("responses", {}).items():
        for media in response.get("content", {}).values():
            assert set(media.get("schema", {"$ref": ""})) == {"$ref"}, name


def test_real_bundle_normalize_is_idempotent_and_deterministic(
    raw_bundle: Spec, normalized_bundle: tuple[Spec, list[tuple[str, int]]]
) -> None:
    spec, report = normalized_bundle
    assert any(count for _, count in report), "the bundle needed no fix: are the fixtures stale?"
    again = copy.deepcopy(raw_bundle)
    assert nz.normalize(again) == report
    assert again == spec
    assert all(count == 0 for _, count in nz.normalize(again)), "a second pass still changed something"
