"""``make test-wheel``: what a user installs works outside this checkout, typed.

1. The wheel holds ``wise_async`` and the generated ``wise_api``, each with ``py.typed``, and no bytecode;
   the sdist holds ``generated/wise_api`` (so a wheel builds from it without the spec) and no spec.
2. In a new venv in a temporary directory (cwd there, so nothing is imported from the checkout), the
   wheel installs with its ``server`` extra, and ``user_app.py`` calls FakeWise over a loopback port.
3. ``mypy --strict`` accepts ``user_app.py`` and every ``reveal_type`` in it shows a real type, not ``Any``.
4. ``mypy --strict`` on the README's quickstart, as written (see ``QUICKSTART_ERRORS``).

Prints one line per check and a last summary line; exits 1 on the first failure.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
USER_APP = Path(__file__).with_name("user_app.py")
REVEALS = 5  # reveal_type calls in user_app.py

# What `mypy --strict` may say about the README quickstart: nothing. Optional response fields are
# `X | None`, but the ids of returned resources are typed present and request uuid fields take the id as
# Wise sent it (codegen/wire_types.py), so the quickstart passes strict mode as written.
QUICKSTART_ERRORS: list[str] = []


class CheckFailed(Exception):
    pass


def say(line: str) -> None:
    print(f"wheel: {line}", flush=True)


def run(args: list[str | Path], cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise CheckFailed(
            f"{' '.join(map(str, args))} exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


def pinned(package: str) -> str:
    """The version of a dev tool pinned in pyproject.toml (mypy in the clean venv is the project's)."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for requirement in extras["dev"]:
        if requirement.startswith(f"{package}=="):
            return str(requirement)
    raise CheckFailed(f"{package} is not pinned in the dev extra")


def check_archives(dist: Path) -> Path:
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise CheckFailed(f"expected one wheel and one sdist in {dist}, found {wheels + sdists}")
    names = zipfile.ZipFile(wheels[0]).namelist()
    for required in (
        "wise_async/__init__.py",
        "wise_async/py.typed",
        "wise_api/__init__.py",
        "wise_api/py.typed",
    ):
        if required not in names:
            raise CheckFailed(f"{wheels[0].name} has no {required}")
    operations = [n for n in names if n.startswith("wise_api/api/") and n.endswith(".py")]
    if len(operations) < 200 or any("__pycache__" in n or n.endswith(".pyc") for n in names):
        raise CheckFailed(f"{wheels[0].name}: {len(operations)} endpoint modules, or bytecode inside")
    with tarfile.open(sdists[0]) as sdist:
        members = sdist.getnames()
    top = members[0].split("/")[0]
    for required in ("generated/wise_api/__init__.py", "generated/wise_api/py.typed", "hatch_build.py"):
        if f"{top}/{required}" not in members:
            raise CheckFailed(f"{sdists[0].name} has no {required}")
    if any(m.endswith("openapi/index.yaml") or "/.venv" in m for m in members):
        raise CheckFailed(f"{sdists[0].name} carries the spec or a venv")
    say(
        f"{wheels[0].name}: {len(names)} files ({len(operations)} endpoint modules, py.typed in "
        f"wise_async and wise_api); sdist: {len(members)} files with generated/wise_api"
    )
    return wheels[0]


def check_installed(wheel: Path, python: str, work: Path) -> Path:
    venv = work / "venv"
    run([python, "-m", "venv", venv], work)
    bin_dir = venv / "bin"
    run([bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         f"{wheel}[server]", pinned("mypy")], work)  # fmt: skip
    version = run(
        [bin_dir / "python", "-c", "import sys; print(sys.version.split()[0])"], work
    ).stdout.strip()
    where = run(
        [bin_dir / "python", "-c", "import wise_async as a, wise_api as b; print(a.__file__, b.__file__)"],
        work,
    )
    if str(ROOT) in where.stdout or "site-packages" not in where.stdout:
        raise CheckFailed(f"imported from the wrong place: {where.stdout}")
    app = work / "user_app.py"
    app.write_text(USER_APP.read_text())
    output = run([bin_dir / "python", app], work).stdout.strip()
    if not re.fullmatch(r"user app: 2 profiles, quote [0-9a-f-]{36} at [0-9.]+, NotFoundError", output):
        raise CheckFailed(f"user_app.py printed {output!r}")
    say(f"installed in a clean Python {version} venv outside the tree; FakeWise over loopback: {output}")
    return bin_dir


def check_types(bin_dir: Path, work: Path) -> None:
    result = run([bin_dir / "mypy", "--strict", "user_app.py"], work, check=False)
    revealed = re.findall(r'note: Revealed type is "(.*)"', result.stdout)
    problems = [line for line in result.stdout.splitlines() if ": error:" in line]
    if result.returncode != 0 or problems:
        raise CheckFailed(f"mypy --strict on user_app.py:\n{result.stdout}{result.stderr}")
    untyped = [t for t in revealed if re.search(r"\bAny\b", t)]
    if len(revealed) != REVEALS or untyped:
        raise CheckFailed(f"mypy revealed {revealed}; Any in {untyped}")
    shown = ", ".join(t.rsplit(".", 1)[-1] if " " not in t else t for t in revealed[1:4])
    say(f"mypy --strict on user_app.py: clean, {len(revealed)} reveal_type, none Any ({shown}, ...)")


def check_quickstart(bin_dir: Path, work: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Quickstart") :]
    quickstart = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    if quickstart is None:
        raise CheckFailed("README has no quickstart block")
    (work / "quickstart.py").write_text(quickstart.group(1))
    result = run([bin_dir / "mypy", "--strict", "quickstart.py"], work, check=False)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    unexpected = [e for e in errors if not any(known in e for known in QUICKSTART_ERRORS)]
    missing = [k for k in QUICKSTART_ERRORS if not any(k in e for e in errors)]
    if unexpected or missing:
        raise CheckFailed(
            f"mypy --strict on the README quickstart:\n{result.stdout}\nexpected: {QUICKSTART_ERRORS}"
        )
    if errors:
        say(f"mypy --strict on the README quickstart: {len(errors)} known errors, all `| None` fields")
    else:
        say("mypy --strict on the README quickstart: clean")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dist", type=Path)
    parser.add_argument("--python", default=sys.executable, help="the Python of the clean venv")
    args = parser.parse_args()
    try:
        wheel = check_archives(args.dist.resolve())
        with tempfile.TemporaryDirectory(prefix="wise-async-wheel-") as tmp:
            work = Path(tmp)
            bin_dir = check_installed(wheel, args.python or sys.executable, work)
            check_types(bin_dir, work)
            check_quickstart(bin_dir, work)
    except CheckFailed as failure:
        print(f"wheel: FAILED: {failure}", flush=True)
        return 1
    say("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
