"""Types are tested like code: each program in ``programs/`` is checked by mypy --strict and pyright strict.

``mistake_*.py`` holds one mistake a user can make, on the line marked ``# mistake``: both checkers must
report an error on that line and nowhere else. ``correct_*.py`` (README snippets, enum strings, dict bodies,
the webhook ``match``) must be clean under both. Each checker runs once over all programs, so the suite
costs one mypy and one pyright run (pyright is pinned in package.json, installed by ``make install``).
The same mistakes are made at run time in test_runtime_refusals.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PROGRAMS = HERE / "programs"
MARK = "# mistake"
PYRIGHT = ROOT / "node_modules" / ".bin" / "pyright"

MISTAKES = sorted(PROGRAMS.glob("mistake_*.py"))
CORRECT = sorted(PROGRAMS.glob("correct_*.py"))
# The example service users copy: mypy --strict only (pyright strict refuses FastAPI's Annotated aliases
# made inside a function, the way the example builds its dependencies).
EXAMPLES = [ROOT / "examples" / "fastapi_service.py"]


def marked_line(path: Path) -> int:
    lines = [n for n, text in enumerate(path.read_text().splitlines(), 1) if text.rstrip().endswith(MARK)]
    assert len(lines) == 1, f"{path.name}: exactly one line must end with {MARK!r}"
    return lines[0]


Errors = dict[str, set[int]]  # program file name → lines with an error


def run_mypy() -> Errors:
    # the project's [tool.mypy] settings (mypy_path=generated, generated code's own errors not reported)
    # plus PEP 702's `deprecated` code, which mypy leaves off unless asked
    command = [sys.executable, "-m", "mypy", "--strict", "--enable-error-code", "deprecated"]
    command += [
        "--no-error-summary",
        "--hide-error-context",
        "--no-pretty",
        *map(str, [*MISTAKES, *CORRECT, *EXAMPLES]),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    errors: Errors = {}
    for line in done.stdout.splitlines():
        match = re.match(r"^(.+?\.py):(\d+):(?:\d+:)? error: ", line)
        if match:
            errors.setdefault(Path(match[1]).name, set()).add(int(match[2]))
    if done.returncode not in (0, 1) or (done.returncode == 1 and not errors):
        pytest.fail(f"mypy did not run: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return errors


def run_pyright() -> Errors:
    if not PYRIGHT.exists():
        pytest.fail(f"{PYRIGHT} is missing: run `make install` (npm ci installs the pinned pyright)")
    done = subprocess.run(
        [str(PYRIGHT), "--outputjson", "-p", str(HERE / "pyrightconfig.json")],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"pyright did not run: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    errors: Errors = {}
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            line = diagnostic["range"]["start"]["line"] + 1
            errors.setdefault(Path(diagnostic["file"]).name, set()).add(line)
    return errors


class _Figures:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        for line in self.lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def checked(request: pytest.FixtureRequest) -> Iterator[tuple[Errors, Errors]]:
    assert len(MISTAKES) >= 30 and len(CORRECT) >= 10
    figures = _Figures()
    request.config.pluginmanager.register(figures, "typing-figures")
    results = (run_mypy(), run_pyright())
    yield results
    mypy, pyright = results
    by_mypy = sum(marked_line(p) in mypy.get(p.name, set()) for p in MISTAKES)
    by_pyright = sum(marked_line(p) in pyright.get(p.name, set()) for p in MISTAKES)
    clean = sum(not mypy.get(p.name) and not pyright.get(p.name) for p in CORRECT)
    total = len(MISTAKES)
    figures.lines.append(
        f"typing: {by_mypy}/{total} mistakes flagged by mypy, {by_pyright}/{total} by pyright;"
        f" {clean}/{len(CORRECT)} correct programs clean"
    )


@pytest.mark.parametrize("program", MISTAKES, ids=lambda p: p.stem)
def test_each_mistake_is_flagged_on_its_line_by_mypy_and_pyright(
    program: Path, checked: tuple[Errors, Errors]
) -> None:
    line = marked_line(program)
    for checker, errors in zip(("mypy", "pyright"), checked, strict=True):
        found = errors.get(program.name, set())
        assert found == {line}, (
            f"{checker} flagged lines {sorted(found)} of {program.name}, expected [{line}]"
        )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_the_example_service_is_clean_under_mypy_strict(
    example: Path, checked: tuple[Errors, Errors]
) -> None:
    mypy, _pyright = checked
    assert not mypy.get(example.name), f"mypy flagged lines {sorted(mypy[example.name])}"


@pytest.mark.parametrize("program", CORRECT, ids=lambda p: p.stem)
def test_each_correct_program_is_clean(program: Path, checked: tuple[Errors, Errors]) -> None:
    for checker, errors in zip(("mypy", "pyright"), checked, strict=True):
        assert not errors.get(program.name), f"{checker} flagged lines {sorted(errors[program.name])}"
