"""A calendar-versioned bundle (``/2026Q4/...`` instead of ``/vN``) through the pipeline: no generator
problem, the same facade names, one changelog line per version move. A whole release (moves and churn) is
tests/codegen/test_release_changelog.py."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

from mutated_bundle import QUARTER, VERSIONED, calendar_versions

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
    assert not any("twcard" in p or p.startswith("/oauth") for p in moved)
    left = [VERSIONED.match(p) for p in spec["paths"]]
    assert all(f"/{QUARTER}{m.group(2)}" in spec["paths"] for m in left if m), "every /vN path has moved"

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
