"""A calendar-versioned bundle (``/2026Q4/...`` instead of ``/vN``) through the pipeline: no generator
problem, the same facade names, one changelog line per version move, and an operation table that
matches any pinned quarter."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

from mutated_bundle import ADDED_OPERATION, QUARTER, REMOVED_OPERATION, calendar_versions, release_churn

from codegen import surface
from codegen.normalize import Spec

SurfaceOf = Callable[[Spec], dict[str, str]]  # the surface_of fixture (conftest.py)
FACADE = re.compile(r" facade=(\S+) ")


def facades(entries: dict[str, str]) -> dict[str, str]:
    return {k: FACADE.search(v).group(1) for k, v in entries.items() if k.startswith("op ")}  # type: ignore[union-attr]


def test_calendar_versions_keep_facade_names_and_say_so_in_one_line_per_move(
    raw_bundle: Spec, base_surface: dict[str, str], surface_of: SurfaceOf
) -> None:
    spec = copy.deepcopy(raw_bundle)
    moved = calendar_versions(spec)
    assert len(moved) > 100 and not any("twcard" in p or p.startswith("/oauth") for p in moved)

    new = surface_of(spec)  # asserts the generator reported no problem

    assert facades(new) == facades(base_surface)
    assert {k: v for k, v in new.items() if not k.startswith("op ")} == {
        k: v for k, v in base_surface.items() if not k.startswith("op ")
    }, "models and enums do not depend on paths"
    lines = surface.changelog(base_surface, new)
    old_versions = sorted({re.match(r"/(v\d+)/", p).group(1) for p in moved})  # type: ignore[union-attr]
    assert len(lines) == len(old_versions), lines
    for line, version in zip(lines, old_versions, strict=True):
        assert line.startswith(f"breaking  API version {version} → {QUARTER} for ")
        assert "facade names unchanged" in line


def test_a_release_with_churn_and_calendar_versions_reads_in_a_minute(
    raw_bundle: Spec, base_surface: dict[str, str], surface_of: SurfaceOf
) -> None:
    spec = copy.deepcopy(raw_bundle)
    calendar_versions(spec)
    release_churn(spec)

    lines = surface.changelog(base_surface, surface_of(spec))

    text = "\n".join(lines)
    assert (
        "breaking  BalanceCapacityResponse200DepositLimit.amount retyped: Decimal|None → str|None" in lines
    ), text
    assert any(
        line.startswith("breaking  operation removed: wise.bank_account_details.returns_create (POST ")
        and line.endswith(f", {REMOVED_OPERATION}) with 7 model(s)/enum(s) of its own")
        for line in lines
    ), text
    assert (
        f"additive  operation added: wise.widgets.list (GET /{QUARTER}/profiles/{{profileId}}/widgets,"
        f" {ADDED_OPERATION}) with 1 model(s)/enum(s) of its own" in lines
    ), text
    assert any(
        line.startswith("additive  TransfersStateChangeSchemaVersion400Data.fresh_field added")
        for line in lines
    ), text
    assert len(lines) < 40, text
