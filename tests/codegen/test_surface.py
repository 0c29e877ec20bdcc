"""The API-surface lock (codegen/surface.py) and the spec source and its lock (codegen/spec_source.py).

Fixture specs are the real bundle mutated inside the test: an operation dropped, one added, a field's
type changed. Each is parsed the way ``make generate`` parses it (normalize → openapi-python-client's
parser → facade.collect_operations → surface.build) without rendering files, and the changelog against
the unmutated bundle must list exactly what was mutated.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codegen import generate, spec_source, surface
from codegen import normalize as nz
from codegen.generate import ROOT
from codegen.normalize import Spec, class_name, iter_operations, schema_referrers

SurfaceOf = Callable[[Spec], dict[str, str]]  # the surface_of fixture (conftest.py)
COMMITTED_LOCK = ROOT / "openapi" / "surface.lock"
OP_LINE = re.compile(
    r"^(GET|PUT|POST|DELETE|PATCH|HEAD|OPTIONS) /\S* wise_api\.api\.\w+\.\w+\.asyncio facade=\w+\.\w+"
    r" deprecated=(true|false) tokens=\S+ request=\S+ response=\S+( params=\S+)?( paging=\S+)?$"
)
SUFFIX = "CopyForSurfaceTest"


def facade_name(op_line: str) -> str:
    """``... facade=quotes.create ...`` → ``wise.quotes.create``."""
    return "wise." + op_line.split(" facade=", 1)[1].split(" ", 1)[0]


# --- choosing what to mutate ---------------------------------------------------------------------


def renamed_schemas(spec: Spec) -> set[str]:
    """Component schemas whose title normalize changes (their names depend on who references them)."""
    after = copy.deepcopy(spec)
    nz.normalize(after)
    before_s, after_s = spec["components"]["schemas"], after["components"]["schemas"]
    return {k for k in before_s if before_s[k].get("title") != after_s[k].get("title")}


@pytest.fixture(scope="module")
def isolated_operation(raw_bundle: Spec, base_surface: dict[str, str]) -> tuple[str, str, str]:
    """An operation with no models of its own whose presence renames nothing: dropping or copying it
    changes exactly its own ``op`` line. Returns (path, method, operationId)."""
    referrers = schema_referrers(raw_bundle)
    entangled = {r for key in renamed_schemas(raw_bundle) for r in referrers.get(key, [])}
    for path, method, op in sorted(iter_operations(raw_bundle), key=lambda t: t[2]["operationId"]):
        operation_id = op["operationId"]
        prefix = class_name(operation_id)
        own_models = [k for k in base_surface if k.split(" ", 1)[1].startswith(prefix) and k[:3] != "op "]
        if operation_id[0].isalpha() and operation_id not in entangled and not own_models:
            return path, method, operation_id
    raise AssertionError("no operation without models of its own in the bundle")


@pytest.fixture(scope="module")
def retyped_field(raw_bundle: Spec, base_surface: dict[str, str]) -> tuple[str, str, str]:
    """A plain string property of a component model that no other model inlines (allOf).

    Returns (schema key, property name, model class name)."""
    inlined = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for part in node.get("allOf", []):
                if isinstance(part, dict) and "$ref" in part:
                    inlined.add(part["$ref"].rsplit("/", 1)[-1])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(raw_bundle)
    renamed = renamed_schemas(raw_bundle)
    for key, schema in sorted(raw_bundle["components"]["schemas"].items()):
        model = class_name(schema.get("title") or key)
        if key in inlined or key in renamed or f"model {model}" not in base_surface:
            continue
        for prop, prop_schema in sorted(schema.get("properties", {}).items()):
            if prop_schema.get("type") == "string" and not {"format", "enum", "const"} & prop_schema.keys():
                return key, prop, model
    raise AssertionError("no component model with a plain string property")


def drop_operation(spec: Spec, path: str, method: str) -> None:
    del spec["paths"][path][method]
    if not any(m in spec["paths"][path] for m in nz.HTTP_METHODS):
        del spec["paths"][path]


def copy_operation(spec: Spec, path: str, method: str) -> str:
    item = spec["paths"][path]
    new_op = copy.deepcopy(item[method])
    new_op["operationId"] += SUFFIX
    new_item: dict[str, Any] = {method: new_op}
    if "parameters" in item:
        new_item["parameters"] = copy.deepcopy(item["parameters"])
    spec["paths"][f"{path}/copy-for-surface-test"] = new_item
    return str(new_op["operationId"])


# --- changelogs from mutated bundles -------------------------------------------------------------


def test_dropping_an_operation_reports_it_removed(
    bundle_copy: Spec,
    base_surface: dict[str, str],
    surface_of: SurfaceOf,
    isolated_operation: tuple[str, str, str],
) -> None:
    path, method, operation_id = isolated_operation
    drop_operation(bundle_copy, path, method)

    facade = facade_name(base_surface[f"op {operation_id}"])
    assert surface.changelog(base_surface, surface_of(bundle_copy)) == [
        f"breaking  operation removed: {facade} ({method.upper()} {path}, {operation_id})"
    ]


def test_adding_an_operation_reports_it_added(
    bundle_copy: Spec,
    base_surface: dict[str, str],
    surface_of: SurfaceOf,
    isolated_operation: tuple[str, str, str],
) -> None:
    path, method, _ = isolated_operation
    new_id = copy_operation(bundle_copy, path, method)

    new = surface_of(bundle_copy)

    line = new[f"op {new_id}"]
    new_path = f"{path}/copy-for-surface-test"
    assert surface.changelog(base_surface, new) == [
        f"additive  operation added: {facade_name(line)} ({method.upper()} {new_path}, {new_id})"
    ]
    assert line.startswith(f"{method.upper()} {path}/copy-for-surface-test ")
    assert OP_LINE.match(line), line


def test_changing_a_field_type_reports_the_field_retyped(
    bundle_copy: Spec,
    base_surface: dict[str, str],
    surface_of: SurfaceOf,
    retyped_field: tuple[str, str, str],
) -> None:
    key, prop, model = retyped_field
    bundle_copy["components"]["schemas"][key]["properties"][prop]["type"] = "integer"

    found = surface.changes(base_surface, surface_of(bundle_copy))

    api, dropped = without_dropped_examples(found)
    assert len(api) == 1, api
    # a field of a model Wise sends reads None when absent, so its type may carry |None
    assert re.fullmatch(rf"breaking  {model}\.\w+ retyped: str(\|None)? → int(\|None)?", str(api[0])), api
    assert all(line.startswith("new: ") for c in dropped for line in c.impact), "a retype only adds drops"


def without_dropped_examples(
    found: list[surface.Change],
) -> tuple[list[surface.Change], list[surface.Change]]:
    """The API's changes, and the examples normalize newly drops: a retyped field makes every example
    holding its old type invalid, wherever the spec keeps them (tests/codegen/test_release_changelog.py
    names them on a release)."""
    api = [c for c in found if not c.subject.startswith("normalize ")]
    return api, [c for c in found if c.subject.startswith("normalize ")]


@pytest.fixture(scope="module")
def all_mutations(
    raw_bundle: Spec,
    base_surface: dict[str, str],
    surface_of: SurfaceOf,
    isolated_operation: tuple[str, str, str],
    retyped_field: tuple[str, str, str],
) -> tuple[dict[str, str], list[str]]:
    """All three mutations in one spec: its surface and patterns of the expected changelog lines."""
    spec = copy.deepcopy(raw_bundle)
    path, method, operation_id = isolated_operation
    new_id = copy_operation(spec, path, method)
    drop_operation(spec, path, method)
    key, prop, model = retyped_field
    spec["components"]["schemas"][key]["properties"][prop]["type"] = "integer"
    new = surface_of(spec)
    removed, added = facade_name(base_surface[f"op {operation_id}"]), facade_name(new[f"op {new_id}"])
    return new, [
        re.escape(f"breaking  {model}.") + r"\w+ retyped: str(\|None)? → int(\|None)?",
        re.escape(f"breaking  operation removed: {removed} ({method.upper()} {path}, {operation_id})"),
        re.escape(
            f"additive  operation added: {added} ({method.upper()} {path}/copy-for-surface-test, {new_id})"
        ),
    ]


def matches_in_order(patterns: list[str], lines: list[str]) -> bool:
    return len(patterns) == len(lines) and all(
        re.fullmatch(pattern, line) for pattern, line in zip(patterns, lines, strict=True)
    )


def test_all_mutations_together(
    base_surface: dict[str, str], all_mutations: tuple[dict[str, str], list[str]]
) -> None:
    new, expected = all_mutations
    lines = [str(c) for c in without_dropped_examples(surface.changes(base_surface, new))[0]]
    assert matches_in_order(expected, lines), lines


# --- the lock file and its CLI -------------------------------------------------------------------


def op_line(path: str, facade: str, *, method: str = "GET", response: str = "Thing", **extra: str) -> str:
    parts = {"deprecated": "false", "tokens": "UserToken", "request": "-", "response": response, **extra}
    tail = " ".join(f"{k}={v}" for k, v in parts.items())
    return f"{method} {path} wise_api.api.t.m.asyncio facade={facade} {tail}"


def test_changelog_one_labelled_line_per_fact() -> None:
    old = {
        "op quoteCreate": op_line("/v3/profiles/{profileId}/quotes", "quotes.create", method="POST"),
        "op quoteUpdate": op_line("/v3/quotes/{quoteId}", "quotes.update", method="PATCH"),
        "op oldThing": op_line("/v1/thing", "things.get", deprecated="false"),
        "model Quote": "id:int rate:float|Unset user:int|Unset gone:str",
        "enum QuoteStatus": "NEW|OLD",
    }
    new = {
        "op quoteCreate": op_line("/2026Q4/profiles/{profileId}/quotes", "quotes.create", method="POST"),
        "op widgetList": op_line("/v1/widgets", "widgets.list"),
        "op oldThing": op_line("/v1/thing", "things.get", deprecated="true", response="Other"),
        "model Quote": "id:int rate:str|Unset user:int extra:list[str|None]|Unset must:int",
        "model Widget": "-",
        "enum QuoteStatus": "NEW|NEWER",
    }
    found = surface.changes(old, new)
    assert [str(change) for change in found] == [
        "breaking  API version v3 → 2026Q4 for 1 operation(s), facade names unchanged",
        "breaking  Quote.gone removed (was str)",
        "breaking  Quote.must added, required: int",
        "breaking  Quote.rate retyped: float → str",
        "breaking  Quote.user now required",
        "breaking  enum QuoteStatus value removed: OLD",
        "breaking  operation removed: wise.quotes.update (PATCH /v3/quotes/{quoteId}, quoteUpdate)",
        "breaking  operation wise.things.get response: Thing → Other",
        "additive  Quote.extra added: list[str|None]",
        "additive  enum QuoteStatus value added: NEWER",
        "additive  model added: Widget",
        "additive  operation wise.things.get deprecated",
        "additive  operation added: wise.widgets.list (GET /v1/widgets, widgetList)",
    ]
    assert [change.impact for change in found] == [("operations: wise.quotes.create",)] + [()] * 12
    assert surface.changelog(new, new) == []


def test_quarter_to_quarter_moves_name_the_pin() -> None:
    old = {f"op o{i}": op_line(f"/2026Q3/things/{i}", f"things.get{i}") for i in range(5)}
    new = {k: v.replace("/2026Q3/", "/2026Q4/") for k, v in old.items()}
    (change,) = surface.changes(old, new)
    assert str(change) == (
        "breaking  API version 2026Q3 → 2026Q4 for 5 operation(s), facade names unchanged;"
        " WiseClient(api_version='2026Q3') keeps the old version"
    )
    names = ", ".join(f"wise.things.get{i}" for i in range(5))
    assert change.impact == (f"operations: {names}",), "every operation, none left out"
    assert change.lines()[1:] == [f"          operations: {names}"]


def test_a_real_move_is_not_a_version_change() -> None:
    old = {"op a": op_line("/v1/a", "things.a")}
    new = {"op a": op_line("/v1/b", "things.a")}
    assert surface.changelog(old, new) == [
        "breaking  operation wise.things.a (a) moved: GET /v1/a → GET /v1/b"
    ]


def test_write_read_round_trip(tmp_path: Path) -> None:
    entries = {"op z": "GET /z", "model A": "id:int name:str|Unset", "enum E": "X|Y"}
    lock = tmp_path / "surface.lock"
    surface.write(entries, lock)
    text = lock.read_text(encoding="utf-8")
    assert text.startswith(surface.HEADER)
    assert text.splitlines()[1:] == ["enum E: X|Y", "model A: id:int name:str|Unset", "op z: GET /z"]
    assert surface.read(lock) == entries
    assert surface.read(tmp_path / "missing.lock") == {}


def run_surface_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "codegen.surface", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def test_cli_prints_changelog_and_updates_only_when_asked(
    tmp_path: Path, base_surface: dict[str, str], all_mutations: tuple[dict[str, str], list[str]]
) -> None:
    new_entries, expected = all_mutations
    lock, new = tmp_path / "surface.lock", tmp_path / "new" / "surface.lock"
    new.parent.mkdir()
    surface.write(base_surface, lock)
    surface.write(new_entries, new)
    before = lock.read_bytes()

    checked = run_surface_cli(str(lock), str(new))
    assert checked.returncode == 0, checked.stderr
    out = checked.stdout.splitlines()
    ops = sum(1 for k in new_entries if k.startswith("op "))
    actions = len(without_dropped_examples(surface.changes(base_surface, new_entries))[1])
    shown = f", {actions} action(s)" if actions else ""  # examples the retype made invalid, if any
    summary = f"{3 + actions} change(s) against {lock}: 2 breaking, 1 additive{shown} ({ops} operations)"
    assert out[0] == f"surface: {summary}"
    headlines = [line.removeprefix("  ") for line in out[1:] if not line.startswith(" " * 12)]
    headlines = [line for line in headlines if not line.startswith("action    normalize ")]
    assert matches_in_order(expected, headlines), out
    assert any(line.startswith((" " * 12 + "returned by: ", " " * 12 + "sent by: ")) for line in out), (
        "impact shown"
    )
    assert run_surface_cli(str(lock), str(new), "--check").returncode == 2, "breaking → exit 2"
    assert lock.read_bytes() == before, "the lock changed without --update"

    updated = run_surface_cli(str(lock), str(new), "--update")
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout.splitlines()[-1] == f"surface: {lock} updated"
    assert lock.read_bytes() == new.read_bytes()

    again = run_surface_cli(str(lock), str(new))
    ops = sum(1 for k in new_entries if k.startswith("op "))
    assert again.stdout.strip() == f"surface: no change against {lock} ({ops} operations)"


def test_check_exit_status_says_none_additive_or_breaking(tmp_path: Path) -> None:
    lock, new = tmp_path / "surface.lock", tmp_path / "new.lock"
    surface.write({"op a": op_line("/v1/a", "things.a")}, lock)
    surface.write({"op a": op_line("/v1/a", "things.a")}, new)
    assert surface.main(["surface", str(lock), str(new), "--check"]) == 0
    surface.write({"op a": op_line("/v1/a", "things.a"), "op b": op_line("/v1/b", "things.b")}, new)
    assert surface.main(["surface", str(lock), str(new), "--check"]) == 1
    assert surface.main(["surface", str(lock), str(new)]) == 0, "without --check the status is 0"
    surface.write({}, new)
    assert surface.main(["surface", str(lock), str(new), "--check"]) == 2


def test_cli_against_a_missing_lock_adds_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new.lock"
    surface.write({"op a": "GET /a", "model M": "-"}, new)
    lock = tmp_path / "absent" / "surface.lock"
    lock.parent.mkdir()

    assert surface.main(["surface", str(lock), str(new), "--update"]) == 0

    out = capsys.readouterr().out
    assert ": 0 breaking, 2 additive (1 operations)" in out
    assert surface.read(lock) == surface.read(new)


def test_surface_lines_are_well_formed(base_surface: dict[str, str], raw_bundle: Spec) -> None:
    ops = {k: v for k, v in base_surface.items() if k.startswith("op ")}
    assert sorted(k[3:] for k in ops) == sorted(op["operationId"] for _, _, op in iter_operations(raw_bundle))
    bad = [f"{k}: {v}" for k, v in ops.items() if not OP_LINE.match(v)]
    assert bad == []
    for key, value in base_surface.items():
        kind = key.split(" ", 1)[0]
        assert kind in ("op", "model", "enum", "event", "normalize"), key
        if kind == "model" and value != "-":
            assert all(re.fullmatch(r"\w+:\S+", field) for field in value.split(" ")), f"{key}: {value}"
        assert "object at 0x" not in value, f"{key}: a repr() leaked into the lock: {value}"


def test_committed_surface_lock_matches_the_current_generation(base_surface: dict[str, str]) -> None:
    committed = surface.read(COMMITTED_LOCK)
    lines = surface.changelog(committed, base_surface)
    shown = "\n".join(lines[:40]) + ("\n..." if len(lines) > 40 else "")
    assert not lines, (
        f"openapi/surface.lock is out of date with the spec and the generator ({len(lines)} line(s)"
        " differ).\n"
        "Run `make regenerate`, review the changelog it prints, and commit openapi/surface.lock and "
        f"openapi/spec.lock.\n{shown}"
    )


def test_regenerating_an_unchanged_spec_rewrites_the_lock_byte_for_byte(
    base_surface: dict[str, str], tmp_path: Path
) -> None:
    """What `make regenerate` copies over openapi/surface.lock is the committed file itself."""
    surface.write(base_surface, tmp_path / "surface.lock")
    assert (tmp_path / "surface.lock").read_bytes() == COMMITTED_LOCK.read_bytes()


def test_committed_spec_lock_names_the_bundle(bundle_path: Path) -> None:
    facts = spec_source.read_lock(ROOT / "openapi" / "spec.lock")
    assert set(facts) >= {"sha256", "bytes"}
    content = bundle_path.read_bytes()
    assert (facts["sha256"], int(facts["bytes"])) == (hashlib.sha256(content).hexdigest(), len(content)), (
        f"openapi/spec.lock does not name {bundle_path}: run `make regenerate`"
    )


# --- spec_source -----------------------------------------------------------------------------------


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """spec_source pointed at a temporary checkout: its own openapi/ and ../shared copy."""
    root = tmp_path / "repo"
    (root / "openapi").mkdir(parents=True)
    monkeypatch.setattr(spec_source, "ROOT", root)
    monkeypatch.setattr(spec_source, "TARGET", root / "openapi" / "index.yaml")
    monkeypatch.setattr(spec_source, "LOCK", root / "openapi" / "spec.lock")
    monkeypatch.setattr(spec_source, "SHARED_COPY", tmp_path / "shared" / "wise-openapi" / "index.yaml")
    monkeypatch.delenv("WISE_SPEC", raising=False)
    return root


def test_choose_source_order(sandbox: Path) -> None:
    assert spec_source.choose_source({}) == spec_source.PUBLISHED_URL
    assert spec_source.choose_source({"WISE_SPEC": "   "}) == spec_source.PUBLISHED_URL
    spec_source.SHARED_COPY.parent.mkdir(parents=True)
    spec_source.SHARED_COPY.write_text("openapi: 3.1.0\n", encoding="utf-8")
    assert spec_source.choose_source({}) == str(spec_source.SHARED_COPY)
    assert spec_source.choose_source({"WISE_SPEC": " /somewhere/spec.yaml "}) == "/somewhere/spec.yaml"
    assert (
        spec_source.choose_source({"WISE_SPEC": "https://example.test/x.yaml"})
        == "https://example.test/x.yaml"
    )


def test_read_source_reads_paths_and_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "spec.yaml").write_bytes(b"openapi: 3.1.0\n")
    assert spec_source.read_source("~/spec.yaml") == b"openapi: 3.1.0\n"

    seen: dict[str, Any] = {}

    def fake_get(url: str, **kwargs: Any) -> httpx.Response:
        seen.update(url=url, **kwargs)
        return httpx.Response(200, content=b"from the web", request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", fake_get)
    assert spec_source.read_source("https://example.test/index.yaml") == b"from the web"
    assert seen["url"] == "https://example.test/index.yaml" and seen["follow_redirects"] is True


def test_wise_spec_override_is_copied_and_reported_without_lock(
    sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "elsewhere.yaml"
    source.write_bytes(b"openapi: 3.1.0\ninfo: {title: override}\n")
    monkeypatch.setenv("WISE_SPEC", str(source))

    assert spec_source.main(["spec_source"]) == 0

    assert spec_source.TARGET.read_bytes() == source.read_bytes()
    out = capsys.readouterr().out
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    size = len(source.read_bytes())
    assert f"spec: {source} → openapi/index.yaml (sha256 {digest[:16]}…, {size} bytes)" in out
    assert "no openapi/spec.lock yet" in out
    assert not spec_source.LOCK.exists()


def test_lock_match_and_a_mismatch_stops_with_one_line(
    sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "spec.yaml"
    source.write_bytes(b"openapi: 3.1.0\n")
    monkeypatch.setenv("WISE_SPEC", str(source))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()

    spec_source.write_lock(digest, len(source.read_bytes()), source=str(source))
    assert spec_source.main(["spec_source"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "spec: matches openapi/spec.lock"

    source.write_bytes(b"openapi: 3.1.1\n")  # Wise published a new bundle
    new_digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert spec_source.main(["spec_source"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"spec: {source} (sha256 {new_digest[:16]}…) is not the spec openapi/spec.lock names"
        f" ({tmp_path.name}/spec.yaml, sha256 {digest[:16]}…, 15 bytes): set WISE_SPEC to that spec,"
        " or run `make regenerate` to review and adopt this one\n"
    )
    assert spec_source.TARGET.read_bytes() == b"openapi: 3.1.0\n", "the refused spec is not copied"
    assert spec_source.read_lock()["sha256"] == digest, "a plain fetch must not move the lock"
    assert spec_source.main(["spec_source", "--verify"]) == 0


def test_a_missing_locked_spec_stops_generate_with_one_line(
    sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lock names a spec that is gone (a release tried from /tmp): no fallback to ../shared, no build."""
    monkeypatch.setenv("PATH", os.environ["PATH"])  # generate.main prepends to it: restored afterwards
    spec_source.write_lock("ab" * 32, 1234, source="/tmp/gone/mutated.yaml")
    spec_source.SHARED_COPY.parent.mkdir(parents=True)
    spec_source.SHARED_COPY.write_bytes(b"openapi: 3.1.0\n")

    assert spec_source.main(["spec_source"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"spec: {spec_source.SHARED_COPY} (sha256 ")
    assert "(gone/mutated.yaml, sha256 abababababababab…, 1234 bytes)" in line
    assert not spec_source.TARGET.exists()
    assert spec_source.main(["spec_source", "--verify"]) == 1
    assert capsys.readouterr().err == "spec: no openapi/index.yaml: run `make spec`\n"

    spec_source.TARGET.write_bytes(b"openapi: 3.1.0\n")  # a stale copy from before the lock moved
    assert spec_source.main(["spec_source", "--verify"]) == 1
    assert generate.main(["--spec", str(spec_source.TARGET), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[1].startswith("generate: ") and "make regenerate" in err[1]
    assert not (tmp_path / "out").exists(), "nothing generated"


def test_update_lock_adopts_the_generated_spec_and_records_no_path(
    sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "spec.yaml"
    source.write_bytes(b"openapi: 3.1.0\npaths: {}\n")
    monkeypatch.setenv("WISE_SPEC", str(source))
    spec_source.write_lock("0" * 64, 1)
    assert spec_source.main(["spec_source", "--regenerating"]) == 0
    source.write_bytes(b"changed after generation\n")  # the lock takes what was generated from

    assert spec_source.main(["spec_source", "--update-lock"]) == 0

    assert capsys.readouterr().out.splitlines()[-1] == "spec: openapi/spec.lock updated"
    generated_from = spec_source.TARGET.read_bytes()
    facts = spec_source.read_lock()
    assert facts == {
        "sha256": hashlib.sha256(generated_from).hexdigest(),
        "bytes": str(len(generated_from)),
        "name": f"{tmp_path.name}/spec.yaml",  # a name, never a path of this machine
    }
    assert spec_source.LOCK.read_text(encoding="utf-8").startswith("# ")
    before = spec_source.LOCK.read_bytes()
    assert spec_source.main(["spec_source", "--update-lock"]) == 0
    assert spec_source.LOCK.read_bytes() == before, "adopting the same spec again changes no byte"

    monkeypatch.setenv("WISE_SPEC", "https://example.test/index.yaml")
    spec_source.main(["spec_source", "--update-lock"])
    assert spec_source.read_lock()["source"] == "https://example.test/index.yaml"
    monkeypatch.delenv("WISE_SPEC")  # a recorded URL is the source from then on
    assert spec_source.choose_source({}) == "https://example.test/index.yaml"


def test_committed_spec_lock_is_repository_independent() -> None:
    facts = spec_source.read_lock(ROOT / "openapi" / "spec.lock")
    where = facts.get("source") or facts.get("name", "")
    assert where.startswith("https://") or ("name" in facts and ".." not in where and where[:1] != "/")


def test_regenerate_announces_the_new_spec_without_contradicting_itself(
    sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "spec.yaml"
    source.write_bytes(b"openapi: 3.1.0\n")
    monkeypatch.setenv("WISE_SPEC", str(source))
    spec_source.write_lock("0" * 64, 1)

    assert spec_source.main(["spec_source", "--regenerating"]) == 0

    last = capsys.readouterr().out.splitlines()[-1]
    assert "a new spec" in last and "changelog below" in last
    assert "make regenerate" not in last


def test_required_ness_is_read_from_the_marker_not_the_type() -> None:
    old = {"model Quote": "id:int rate:Decimal|None=None user:int|None=None"}
    new = {"model Quote": "id:int rate:str|None=None user:int|None extra:str|None=None"}
    assert surface.changelog(old, new) == [
        "breaking  Quote.rate retyped: Decimal|None → str|None",
        "breaking  Quote.user now required",
        "additive  Quote.extra added: str|None",
    ]


def test_union_members_in_another_order_are_the_same_type(tmp_path: Path) -> None:
    """OpenAPI 3.1's ``type: [string, "null"]`` on a field already optional reorders ``str|None``."""
    old = {
        "model M": "a:str|None=None b:list[str|None]|Unset c:dict[str,int|str]|Unset",
        "op o": op_line("/v1/o", "things.o", response="A|B"),
    }
    new = {
        "model M": "a:None|str=None b:list[None|str]|Unset c:dict[str,str|int]|Unset",
        "op o": op_line("/v1/o", "things.o", response="B|A"),
    }
    assert surface.changelog(old, new) == []
    lock, fresh = tmp_path / "surface.lock", tmp_path / "new.lock"
    surface.write(old, lock)
    surface.write(new, fresh)
    assert surface.main(["surface", str(lock), str(fresh), "--check"]) == 0, "a no-op is not breaking"
    new["model M"] = "a:None|int=None b:list[None|str]|Unset c:dict[int,str]|Unset"
    assert surface.changelog(old, new) == [
        "breaking  M.a retyped: str|None → None|int",
        "breaking  M.c retyped: dict[str,int|str] → dict[int,str]",  # arguments keep their order
    ]


def test_webhook_events_are_named_by_type_and_version_with_their_payload() -> None:
    old = {
        "event transfers#state-change 4.0.0": "envelope=T4 data=T4Data",
        "model T4": "data:T4Data schema_version:T4Version",
        "model T4Data": "resource:T4Resource|None=None",
        "model T4Resource": "id:int",
        "enum T4Version": "4.0.0",
    }
    new = {
        **old,
        "model T4Data": "resource:T4Resource|None=None fresh:str|None=None",
        "model T4Resource": "id:int|Unset",
        "event balances#update 2.0.0": "envelope=B2 data=B2Data",
        "model B2": "data:B2Data schema_version:B2Version",
        "model B2Data": "amount:Decimal|None=None",
        "enum B2Version": "2.0.0",
        "model Unrelated": "-",
    }
    found = surface.changes(old, new)
    assert [(c.label, c.text, c.impact) for c in found] == [
        ("breaking", "T4Resource.id now optional", ("webhook events: transfers#state-change 4.0.0",)),
        (
            "additive",
            "webhook transfers#state-change 4.0.0 data.fresh added: str|None",
            ("webhook events: transfers#state-change 4.0.0",),
        ),
        ("additive", "model added: Unrelated", ()),
        (
            "additive",
            "webhook event added: balances#update schema_version 2.0.0 (data: B2Data)"
            " with 3 model(s)/enum(s) of its own",
            (),
        ),
    ]
    assert [str(c) for c in surface.changes(new, old)][-1] == (
        "breaking  webhook event removed: balances#update schema_version 2.0.0 (data: B2Data)"
        " with 3 model(s)/enum(s) of its own"
    )


def test_impact_names_every_operation_sending_or_returning_a_model_at_any_depth() -> None:
    old = {
        "op a": op_line("/v1/a", "things.a", method="POST", request="Body", response="list[Outer]|None"),
        "op b": op_line("/v1/b", "things.b", response="Outer"),
        "op c": op_line("/v1/c", "things.c", response="Other"),
        "model Body": "inner:Inner|Unset",
        "model Outer": "items:list[dict[str,Inner]]",
        "model Other": "-",
        "model Inner": "status:Status|Unset",
        "enum Status": "A|B",
    }
    new = {**old, "enum Status": "A|C"}
    found = surface.changes(old, new)
    impact = ("sent by: wise.things.a", "returned by: wise.things.a, wise.things.b")
    assert [(c.label, c.text, c.impact) for c in found] == [
        ("breaking", "enum Status value removed: B", impact),
        ("additive", "enum Status value added: C", impact),
    ]
    assert found[0].lines() == [
        "breaking  enum Status value removed: B",
        "          sent by: wise.things.a",
        "          returned by: wise.things.a, wise.things.b",
    ]


def test_a_new_paged_operation_without_an_iterator_is_an_action() -> None:
    old = {"op cardList": op_line("/v3/cards", "cards.list", paging="pageNumber")}
    new = {
        **old,
        "op widgetList": op_line("/v1/widgets", "widgets.list", paging="unknown(pageToken)"),
        "op gadgetList": op_line("/v1/gadgets", "gadgets.list", paging="offset"),
        "op transferList": op_line("/v1/transfers", "transfers.list", paging="offset"),
    }
    found = surface.changes(old, new, iterated={"cardList", "transferList"})
    assert [str(c) for c in found if c.label == "action"] == [
        "action    operation wise.gadgets.list is paged but gets no iterator: add it to the paging table"
        " (style offset)",
        "action    operation wise.widgets.list is paged but gets no iterator: its paging shape"
        " unknown(pageToken) is none of the known styles (cursor, lastId, offset, pageNumber, seekPosition)",
    ]
    assert surface.changes(new, new, iterated=set()) == [], "only what the release changed"
    assert surface.summary(found, "L", 4).endswith("0 breaking, 3 additive, 2 action(s) (4 operations)")
    lock_changed = {"op cardList": op_line("/v3/cards", "cards.list", paging="unknown(cursor)")}
    assert [str(c) for c in surface.changes(old, lock_changed)] == [
        "breaking  operation wise.cards.list paging: pageNumber → unknown(cursor)"
    ]


def test_the_spec_s_paged_operations_are_the_paging_table_s() -> None:
    """Every operation the committed lock marks paged has an iterator of the same style, and back."""
    from wise_async.pagination import PAGING_STYLES

    paged = {
        key[3:]: line.rsplit(" paging=", 1)[1]
        for key, line in surface.read(COMMITTED_LOCK).items()
        if " paging=" in line
    }
    assert paged == {operation_id: style.name for operation_id, style in PAGING_STYLES.items()}
    assert surface.iterated_operations() == set(PAGING_STYLES)
    assert surface.paging_shape(["profileId", "limit"]) is None
    assert surface.paging_shape(["pageToken", "limit"]) == "unknown(pageToken)"


def test_normalization_places_new_and_gone_are_named() -> None:
    old = {
        "normalize drop_invalid_examples a example": "changed",
        "normalize drop_invalid_examples b example": "changed",
    }
    new = {
        "normalize drop_invalid_examples b example": "changed",
        "normalize drop_invalid_examples c example": "changed",
    }
    (change,) = surface.changes(old, new)
    assert (change.label, change.text, change.impact) == (
        "action",
        "normalize drop_invalid_examples: 2 → 2 place(s)",
        ("new: c example", "gone: a example"),
    )
    (fixed,) = surface.changes(old, {k: v for k, v in old.items() if " b " in k})
    assert fixed.label == "additive", "Wise mended an example: nothing to do"


def test_arguments_added_removed_retyped_and_their_types_sent() -> None:
    old = {
        "op a": op_line(
            "/v1/a/{id}", "things.a", params="id:int,status:Status|Unset,size:int|Unset,gone:str"
        ),
        "enum Status": "A|B",
    }
    new = {
        "op a": op_line(
            "/v1/a/{id}", "things.a", params="id:str,status:Status|Unset,size:int,since:str|Unset,must:bool"
        ),
        "enum Status": "A",
    }
    assert [(c.label, c.text, c.impact) for c in surface.changes(old, new)] == [
        ("breaking", "enum Status value removed: B", ("sent by: wise.things.a",)),
        ("breaking", "operation wise.things.a argument gone removed (was str)", ()),
        ("breaking", "operation wise.things.a argument id retyped: int → str", ()),
        ("breaking", "operation wise.things.a argument must added, required: bool", ()),
        ("breaking", "operation wise.things.a argument size now required", ()),
        ("additive", "operation wise.things.a argument since added: str", ()),
    ]
    before_the_column = {
        "op a": op_line("/v1/a/{id}", "things.a")
    }  # a lock from before arguments were listed
    assert surface.changes(before_the_column, {"op a": new["op a"]}) == [], "unknown, not absent"


def test_a_widened_type_is_additive_where_only_callers_give_it() -> None:
    """An argument or a field of a model only sent that takes more (``str`` → ``str|None``, an enum → the
    enum or its strings) breaks no call; a field Wise returns that may hold more breaks code reading it,
    and a type widened inside a list is not one a type checker takes for the old (lists are invariant)."""
    old = {
        "op a": op_line(
            "/v1/a", "things.a", method="POST", request="Body", response="Answer", params="s:Status|Unset"
        ),
        "model Body": "note:str|Unset kind:Status codes:list[int]|Unset",
        "model Answer": "note:str|None=None",
        "enum Status": "A|B",
    }
    new = {
        "op a": op_line(
            "/v1/a",
            "things.a",
            method="POST",
            request="Body",
            response="Answer",
            params="s:Status|Literal['A','B']|Unset",
        ),
        "model Body": "note:None|str|Unset kind:Status|Literal['A','B'] codes:list[int|str]|Unset",
        "model Answer": "note:str|int|None=None",
        "enum Status": "A|B",
    }
    assert [(c.label, c.text) for c in surface.changes(old, new)] == [
        ("breaking", "Answer.note retyped: str|None → str|int|None"),
        ("breaking", "Body.codes retyped: list[int] → list[int|str]"),
        ("additive", "Body.kind widened: Status → Status|Literal['A','B']"),
        ("additive", "Body.note widened: str → None|str"),
        ("additive", "operation wise.things.a argument s widened: Status → Status|Literal['A','B']"),
    ]
    narrowed = surface.changes(new, old)
    assert {c.label for c in narrowed} == {"breaking"} and len(narrowed) == 5


def test_the_paging_table_is_read_from_the_generated_package_when_it_has_one(tmp_path: Path) -> None:
    (tmp_path / "paging.py").write_text(
        'PAGED: dict[str, tuple[str, ...]] = {\n    "widgetList": ("cursor",),\n'
        '    "cardList": ("pageNumber",),\n}\n',
        encoding="utf-8",
    )
    assert surface.iterated_operations(tmp_path) == {"widgetList", "cardList"}
    (tmp_path / "paging.py").unlink()  # a package without one: the installed one's, else the hand-written
    assert surface.iterated_operations(tmp_path) == surface.iterated_operations()
