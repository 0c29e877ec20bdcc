"""nox sessions mirroring the Makefile, for running the suite on several Pythons (``nox -s tests-3.10``).

The Makefile stays the source of truth for CI; nox adds interpreter coverage (3.10 is the oldest we
support) with the same commands.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["generate", "tests", "lint", "typecheck"]
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


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
