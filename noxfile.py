"""nox sessions mirroring the Makefile, for running the suite on several Pythons (``nox -s tests-3.12``).

The Makefile stays the source of truth for CI (``make test`` runs every supported Python itself); nox
offers the same commands per interpreter. Interpreters are found on PATH or in pyenv's versions, and a
missing one is an error, not a silent skip.
"""

from __future__ import annotations

import glob
import os

import nox

nox.options.sessions = ["generate", "tests", "lint", "typecheck"]
nox.options.error_on_missing_interpreters = True
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PYENV_BINS = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[0-9].*/bin")))
os.environ["PATH"] = os.pathsep.join([*PYENV_BINS, os.environ.get("PATH", "")])  # before pyenv's shims


def _install(session: nox.Session) -> None:
    session.install("-e", ".[dev]")


@nox.session
def generate(session: nox.Session) -> None:
    """Fetch the spec (if needed) and regenerate generated/wise_api."""
    _install(session)
    session.run("python", "-m", "codegen.spec_source")
    session.run("python", "-m", "codegen.generate")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The pytest suite on each Python (needs `generate` first, and `npm ci` for the Prism contract tests).

    The code generator itself needs Python 3.11+, so on 3.10 its tests are left out: what 3.10 users run
    is the generated client and wise_async, which are tested there in full.
    """
    if session.python == "3.10":
        session.install("-e", ".[test]")
        session.run("python", "-m", "pytest", "--ignore=tests/codegen", *session.posargs)
    else:
        _install(session)
        session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff format check and lint."""
    _install(session)
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on wise_async."""
    _install(session)
    session.run("mypy")
