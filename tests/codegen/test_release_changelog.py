"""A whole spec release through the changelog: the bundle moved to ``/2026Q4`` and churned with one change
of every kind (tests/codegen/mutated_bundle.py), parsed once; every line, its label and its impact list.

The expectations come from what ``release_churn`` changed and from the unmutated bundle's surface, never
from the changelog itself, so a line lost, merged, mislabelled or cut short fails here.
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from mutated_bundle import ADDED_OPERATION, QUARTER, Churn, calendar_versions, release_churn
from openapi_python_client.strings import snake_case

from codegen import surface
from codegen.normalize import Spec, class_name, iter_operations
from wise_async.pagination import PAGING_STYLES

SurfaceOf = Callable[[Spec], dict[str, str]]  # the surface_of fixture (conftest.py)
Line = tuple[str, str, tuple[str, ...]]  # label, text, impact


@dataclass
class Release:
    churn: Churn
    moved: dict[str, str]
    old: dict[str, str]
    new: dict[str, str]
    found: list[surface.Change]
    spec_examples: list[str]  # names of the examples of transferCreate's request body


@pytest.fixture(scope="module")
def release(raw_bundle: Spec, base_surface: dict[str, str], surface_of: SurfaceOf) -> Release:
    """The one generation of the mutated bundle every test here reads."""
    spec = copy.deepcopy(raw_bundle)
    moved = calendar_versions(spec)
    churn = release_churn(spec)
    new = surface_of(spec)
    found = surface.changes(base_surface, new, surface.iterated_operations())
    (body,) = [
        op["requestBody"]["content"]["application/json"]
        for _, _, op in iter_operations(raw_bundle)
        if op["operationId"] == "transferCreate"
    ]
    return Release(churn, moved, base_surface, new, found, list(body.get("examples", {})))


def facade_of(entries: dict[str, str], operation_id: str) -> str:
    return "wise." + entries[f"op {operation_id}"].split(" facade=", 1)[1].split(" ", 1)[0]


def expected_moves(release: Release) -> list[Line]:
    """One line per old version, naming every operation it moved (from the base surface's paths)."""
    by_version: dict[str, list[str]] = {}
    for key, line in release.old.items():
        path = line.split(" ")[1] if key.startswith("op ") else ""
        if path in release.moved and key in release.new:
            version = path.split("/")[1]
            by_version.setdefault(version, []).append(facade_of(release.old, key[3:]))
    return [
        (
            "breaking",
            f"API version {version} → {QUARTER} for {len(names)} operation(s), facade names unchanged",
            (f"operations: {', '.join(sorted(names))}",),
        )
        for version, names in sorted(by_version.items())
    ]


def own_count(entries: dict[str, str], others: dict[str, str], operation_id: str) -> int:
    prefix = class_name(operation_id)
    return sum(
        1 for k in entries.keys() - others.keys() if k[:3] != "op " and k.split(" ", 1)[1].startswith(prefix)
    )


def dropped_examples(release: Release) -> list[Line]:
    """transferCreate's request examples lack the field the release made required: normalize drops them,
    and the changelog names each one (the count alone said nothing of which)."""
    media = "transferCreate requestBody/content/application/json/examples"
    before = [k for k in release.old if k.startswith("normalize drop_invalid_examples ")]
    examples = sorted(release.spec_examples)
    new = [
        f"new: {media}/{name}"
        for name in examples
        if f"normalize drop_invalid_examples {media}/{name}" not in release.old
    ]
    if not new:
        return []
    text = f"normalize drop_invalid_examples: {len(before)} → {len(before) + len(new)} place(s)"
    return [("action", text, tuple(new))]


def test_every_line_label_and_impact(release: Release) -> None:
    churn, old, new = release.churn, release.old, release.new
    event = f"event {churn.event_type} 2.0.0"
    event_data = surface._line_fields(new[event])["data"]
    removed_line = old[f"op {churn.removed}"].split(" ")
    capacity, transfers_create = facade_of(new, "balanceCapacity"), facade_of(new, "transferCreate")
    amount = {"number": "Decimal", "string": "str"}
    retyped_from, retyped_to = (amount[t] for t in churn.retyped)
    widgets = "wise.widgets." + facade_of(new, churn.added).rsplit(".", 1)[1]
    activities = (
        f"sent by: {facade_of(new, 'activityList')}",
        f"returned by: {facade_of(new, 'activityList')}",
    )
    expected: list[Line] = [
        *expected_moves(release),
        # the status filter's type and the answer's: sent and returned
        ("breaking", f"enum ActivityStatus value removed: {churn.enum_removed}", activities),
        (
            "breaking",
            f"BalanceCapacityResponse200.{churn.const_field} added, required: Literal['CAPACITY']",
            (f"returned by: {capacity}",),
        ),
        (
            "breaking",
            f"BalanceCapacityResponse200DepositLimit.amount retyped: {retyped_from}|None → {retyped_to}|None",
            (f"returned by: {capacity}",),
        ),
        (
            "breaking",
            f"TransferCreateBody.{snake_case(churn.required_field)} added, required: str",
            (f"sent by: {transfers_create}",),
        ),
        (
            "breaking",
            f"operation removed: {facade_of(old, churn.removed)} ({removed_line[0]} {removed_line[1]},"
            f" {churn.removed}) with {own_count(old, new, churn.removed)} model(s)/enum(s) of its own",
            (),
        ),
        *dropped_examples(release),
        (
            "action",
            f"operation {widgets} is paged but gets no iterator: its paging shape unknown(pageToken) is none"
            " of the known styles (cursor, lastId, offset, pageNumber, seekPosition)",
            (),
        ),
        ("additive", f"enum ActivityStatus value added: {churn.enum_added}", activities),
        (
            "additive",
            f"webhook transfers#state-change 4.0.0 data.{churn.webhook_field} added: str|None",
            ("webhook events: transfers#state-change 4.0.0",),
        ),
        (
            "additive",
            f"webhook event added: {churn.event_type} schema_version 2.0.0 (data: {event_data})"
            " with 3 model(s)/enum(s) of its own",  # envelope, data, schema_version enum
            (),
        ),
        ("additive", f"operation {facade_of(new, churn.deprecated)} deprecated", ()),
        (
            "additive",
            f"operation added: {widgets} (GET {churn.added_path}, {churn.added})"
            " with 5 model(s)/enum(s) of its own",  # the page, both tagged branches and their tag enums
            (),
        ),
    ]
    found = [(c.label, c.text, c.impact) for c in release.found]
    if f"op {ADDED_OPERATION}" in old:  # a bundle churned before (WISE_SPEC=a mutated bundle): the
        # release also reshapes what the first churn added (its widget models lose their operation)
        assert [line for line in found if line in expected] == expected
    else:
        assert found == expected
    assert f"model {event_data}" in new and "amount:" in new[f"model {event_data}"]
    nullable = f"{churn.nullable}:"
    assert nullable in new["model BalanceCapacityResponse200DepositLimit"], (
        "made nullable, reported as nothing"
    )


def test_the_cli_prints_every_impact_and_reads_the_paging_table(release: Release, tmp_path: Path) -> None:
    lock, fresh = tmp_path / "surface.lock", tmp_path / "new.lock"
    surface.write(release.old, lock)
    surface.write(release.new, fresh)
    assert surface.iterated_operations() == set(PAGING_STYLES), "the table read from source is the real one"

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = surface.main(["surface", str(lock), str(fresh), "--check"])

    assert status == 2
    printed = out.getvalue().splitlines()
    count = {label: sum(1 for c in release.found if c.label == label) for label in ("breaking", "action")}
    additive = len(release.found) - sum(count.values())
    ops = sum(1 for k in release.new if k.startswith("op "))
    assert printed[0] == (
        f"surface: {len(release.found)} change(s) against {lock}: {count['breaking']} breaking,"
        f" {additive} additive, {count['action']} action(s) ({ops} operations)"
    )
    assert count["action"] >= 1, "the paged widgets (and the dropped examples: the test above)"
    assert printed[1:] == [f"  {line}" for change in release.found for line in change.lines()]
    shown = " ".join(line.strip() for line in printed if line.startswith(" " * 12))
    moved = [k for k in release.old.keys() & release.new.keys() if k[:3] == "op "]
    moved = [k for k in moved if release.old[k].split(" ")[1] != release.new[k].split(" ")[1]]
    counted = [int(line.split(" for ")[1].split(" ")[0]) for line in printed if " → 2026Q4 for " in line]
    assert sum(counted) == len(moved)
    assert len(moved) > 200 or not release.moved, "the real bundle moves most operations"
    assert all(facade_of(release.new, k[3:]) in shown for k in moved), "named, none behind an ellipsis"
    assert "…" not in out.getvalue()
