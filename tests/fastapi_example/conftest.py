from __future__ import annotations

import pytest

FIGURES: list[str] = []
"""Lines the FastAPI example's tests measured, printed at the end of the run."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in FIGURES:
        terminalreporter.write_line(line)
