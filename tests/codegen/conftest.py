"""Shared fixtures for the code-generation pipeline tests.

The bundle is the one ``make`` uses: ``WISE_SPEC``, else the source recorded in ``openapi/spec.lock``, else
``../shared/wise-openapi/index.yaml`` (codegen.spec_source decides). CI always has it, so a missing bundle
fails these tests instead of skipping them. Loading, parsing and generating the
bundle is slow (≈0.5 s, ≈1.5 s and ≈8 s), so each is done once per session and shared.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen import facade, spec_source, surface, webhook_events
from codegen.generate import generate, load_config, parse
from codegen.normalize import Spec, load_spec, normalize

ROOT = Path(__file__).resolve().parents[2]
assert (ROOT / "codegen" / "generate.py").is_file()
BUNDLE = spec_source.local_spec_path(dict(os.environ))
CONFIG_FILE = ROOT / "generator-config.yml"
REPO_PACKAGE = ROOT / "generated" / "wise_api"


def path_with_scripts() -> str:
    """PATH with this interpreter's scripts directory first: the generator's post hooks run ``ruff``.

    ``make`` puts ``.venv/bin`` on PATH; a bare ``.venv/bin/python -m pytest`` does not.
    """
    scripts = sysconfig.get_path("scripts")
    return os.pathsep.join([scripts, os.environ.get("PATH", "")])


@pytest.fixture(scope="session")
def generator_env() -> dict[str, str]:
    """The environment for a ``python -m codegen.generate`` child process."""
    return {**os.environ, "PATH": path_with_scripts()}


@pytest.fixture(scope="session")
def bundle_path() -> Path:
    if not BUNDLE.is_file():
        pytest.fail(
            f"the Wise OpenAPI bundle is missing at {BUNDLE}"
            " (WISE_SPEC, else openapi/spec.lock's source, else ../shared)"
        )
    return BUNDLE


@pytest.fixture(scope="session")
def raw_bundle(bundle_path: Path) -> Spec:
    """The bundle as loaded, never mutated: use ``bundle_copy`` to change it."""
    return load_spec(bundle_path)


@pytest.fixture
def bundle_copy(raw_bundle: Spec) -> Spec:
    return copy.deepcopy(raw_bundle)


@pytest.fixture(scope="session")
def normalized_bundle(raw_bundle: Spec) -> tuple[Spec, list[tuple[str, int]]]:
    spec = copy.deepcopy(raw_bundle)
    report = normalize(spec)
    return spec, report


SurfaceOf = Callable[[Spec], dict[str, str]]


@pytest.fixture(scope="session")
def surface_of(bundle_path: Path, tmp_path_factory: pytest.TempPathFactory) -> SurfaceOf:
    """Spec → surface-lock entries, as ``make generate`` derives them, without rendering any file."""
    config = load_config(CONFIG_FILE, bundle_path, tmp_path_factory.mktemp("parse") / "wise_api")

    def build(spec: Spec) -> dict[str, str]:
        spec = copy.deepcopy(spec)
        normalized: dict[str, list[str]] = {}
        normalize(spec, normalized)
        data = parse(spec, config)
        problems = [
            *data.errors,
            *(e for c in data.endpoint_collections_by_tag.values() for e in c.parse_errors),
        ]
        assert not problems, [f"{p.header}: {p.detail}" for p in problems]
        operations = facade.collect_operations(data, spec, config.field_prefix)
        return surface.build(data, operations, webhook_events.collect(spec, data), normalized)

    return build


@pytest.fixture(scope="session")
def base_surface(raw_bundle: Spec, surface_of: SurfaceOf) -> dict[str, str]:
    return surface_of(raw_bundle)


@pytest.fixture(scope="session")
def generated_package(bundle_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The real bundle generated once, into a temporary directory, exactly as ``make generate`` does."""
    out = tmp_path_factory.mktemp("generated")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", path_with_scripts())
        package = generate(
            bundle_path, out, config_file=CONFIG_FILE, normalized_path=out / "index.normalized.json"
        )
    yield package


RunPython = Callable[..., Any]


@pytest.fixture(scope="session")
def run_python() -> RunPython:
    """Run ``code`` in a fresh interpreter with ``package_root`` first on sys.path; return its JSON output.

    A fresh interpreter is the only honest way to see what an import pulls in, and it lets the tests
    import the temporary ``wise_api`` even though the repository's ``generated/wise_api`` is installed.
    """

    def run(code: str, package_root: Path) -> Any:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(package_root), str(ROOT)])
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            cwd=package_root,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"child interpreter failed:\n{result.stderr}"
        return json.loads(result.stdout.strip().splitlines()[-1])

    return run
