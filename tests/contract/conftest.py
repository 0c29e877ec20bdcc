"""Contract tests: every generated operation against Prism mocking the normalized spec.

The ``prism_url`` fixture starts the pinned Prism (``node_modules``, installed by ``make install``)
once per session on a free loopback port, with ``--errors`` so a request that violates the spec comes
back as an error response instead of a mocked success. A missing Prism or node fails the suite.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .arguments import NORMALIZED_SPEC, ROOT

PRISM = ROOT / "node_modules" / ".bin" / "prism"
STARTUP_TIMEOUT = 60.0
TEST_NODE = "test_every_operation.py::test_operation["


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not PRISM.exists():
        pytest.fail(f"Prism is not installed at {PRISM}: run `make install` (npm ci)", pytrace=False)
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: Prism needs Node.js (see package.json)", pytrace=False)
    if not NORMALIZED_SPEC.exists():
        pytest.fail(f"{NORMALIZED_SPEC} is missing: run `make generate`", pytrace=False)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    env = {**os.environ, "SCARF_ANALYTICS": "false", "NO_UPDATE_NOTIFIER": "1"}
    command = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "--errors", str(NORMALIZED_SPEC)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not (_listening(log, url) and _answers_as_prism(url)):
            if process.poll() is not None:
                pytest.fail(f"Prism exited with {process.returncode}:\n{_log_tail(log)}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Prism did not answer within {STARTUP_TIMEOUT}s:\n{_log_tail(log)}", pytrace=False
                )
            time.sleep(0.1)
        yield url
        if process.poll() is not None:  # died mid-session: the failed calls need this to be understood
            pytest.fail(f"Prism exited during the session ({process.returncode}):\n{_log_tail(log)}")
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _listening(log: Path, url: str) -> bool:
    """Our process says it bound the port (another server on it would answer too)."""
    try:
        return f"Prism is listening on {url}" in log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _answers_as_prism(url: str) -> bool:
    """Prism's own 404 for an unknown path: it serves requests, not just listens."""
    try:
        response = httpx.get(url + "/", timeout=1.0)
    except httpx.TransportError:
        return False
    return "stoplight.io/prism" in response.text


class _Coverage:
    """Which operations' contract tests ran and passed in this session (for the terminal summary)."""

    ran = False
    passed: set[str] = set()  # noqa: RUF012 - one tally per session


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if TEST_NODE not in report.nodeid or not report.nodeid.endswith("]"):
        return
    _Coverage.ran = True
    if report.when == "call" and report.passed and not hasattr(report, "wasxfail"):
        _Coverage.passed.add(report.nodeid.split(TEST_NODE, 1)[1][:-1])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _Coverage.ran:
        from wise_api.operations import OPERATIONS

        terminalreporter.write_line(f"contract: {len(_Coverage.passed)}/{len(OPERATIONS)} operations")
