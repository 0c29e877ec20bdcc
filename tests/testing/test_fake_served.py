"""FakeWise on a real socket: ``uvicorn module:app`` with ``app = fake.asgi_app``, ``serve_asgi`` in the
test's loop, and ``python -m wise_async.testing serve`` as a separate process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from wise_async import AuthenticationError, WiseClient
from wise_async.testing import FakeWise, serve_asgi


def test_uvicorn_sees_an_asgi3_app() -> None:
    config = uvicorn.Config(FakeWise().asgi_app)
    config.load()
    assert config.interface == "asgi3"


@pytest.fixture
def process() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def start(started: list[subprocess.Popen[str]], args: list[str], cwd: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    started.append(proc)
    return proc


def read_until(proc: subprocess.Popen[str], pattern: str, timeout: float = 30) -> re.Match[str]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if found := re.search(pattern, line):
            return found
    raise AssertionError(f"no {pattern!r} in the server's output:\n{''.join(seen)}")


async def test_uvicorn_serves_fake_asgi_app_as_is(
    tmp_path: Path, process: list[subprocess.Popen[str]]
) -> None:
    (tmp_path / "fake_app.py").write_text(
        textwrap.dedent(
            """
            from wise_async.testing import FakeWise

            fake = FakeWise()
            fake.add_personal_token("token-for-uvicorn")
            app = fake.asgi_app
            """
        )
    )
    proc = start(process, ["-m", "uvicorn", "fake_app:app", "--port", "0"], tmp_path)
    base_url = read_until(proc, r"Uvicorn running on (http://\S+)").group(1)
    async with WiseClient(personal_token="token-for-uvicorn", base_url=base_url) as wise:
        profiles = await wise.profiles.list()
    assert [profile.type_ for profile in profiles] == ["PERSONAL", "BUSINESS"]


async def test_serve_command(tmp_path: Path, process: list[subprocess.Popen[str]]) -> None:
    proc = start(
        process, ["-m", "wise_async.testing", "serve", "--port", "0", "--token", "cli-token"], tmp_path
    )
    base_url = read_until(proc, r"^WISE_BASE_URL=(\S+)").group(1)
    assert read_until(proc, r"^WISE_API_TOKEN=(\S+)").group(1) == "cli-token"
    async with WiseClient(personal_token="cli-token", base_url=base_url) as wise:
        assert len(await wise.profiles.list()) == 2
    async with WiseClient(personal_token="not-registered", base_url=base_url, max_retries=0) as wise:
        with pytest.raises(AuthenticationError):
            await wise.profiles.list()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) in (0, -signal.SIGTERM)  # graceful shutdown, then uvicorn re-raises


async def test_serve_asgi_cuts_a_committed_answer_mid_body() -> None:
    fake = FakeWise()
    token = fake.add_personal_token()
    fake.faults.reset_after_commit(method="GET", path="/v2/profiles")
    async with serve_asgi(fake.asgi_app) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            with pytest.raises(httpx.RemoteProtocolError):  # headers arrived, the body did not
                await http.get("/v2/profiles", headers={"Authorization": f"Bearer {token}"})
        async with WiseClient(personal_token=token, base_url=server.base_url) as wise:
            fake.faults.reset_after_commit(method="GET", path="/v2/profiles")
            assert len(await wise.profiles.list()) == 2  # the SDK read a cut body and retried the GET
    assert [r.fault for r in fake.calls("profileList")] == ["reset_after_commit", "reset_after_commit", None]


async def test_serve_is_a_tool_seeded_inspectable_and_explains_failures(
    tmp_path: Path, process: list[subprocess.Popen[str]]
) -> None:
    env_file = tmp_path / "fake.env"
    args = ["-m", "wise_async.testing", "serve", "--seed", "7"]
    first = start(process, [*args, "--port", "0", "--env-file", str(env_file)], tmp_path)
    base_url = read_until(first, r"^WISE_BASE_URL=(\S+)").group(1)
    key = read_until(first, r"^WISE_WEBHOOK_PUBLIC_KEY=(\S+)").group(1)
    state_url = read_until(first, r"^WISE_FAKE_STATE_URL=(\S+)").group(1)
    written = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert (written["WISE_BASE_URL"], written["WISE_WEBHOOK_PUBLIC_KEY"]) == (base_url, key)
    port = base_url.rsplit(":", 1)[1]

    taken = start(process, [*args, "--port", port], tmp_path)
    out, _ = taken.communicate(timeout=30)
    assert taken.returncode == 2
    assert out.strip() == (
        f"python -m wise_async.testing serve: port {port} on 127.0.0.1 is already in use; "
        "pick another with --port (0: any free)"
    )

    again = start(process, [*args, "--port", "0"], tmp_path)  # same seed: same key, token, ids
    assert read_until(again, r"^WISE_WEBHOOK_PUBLIC_KEY=(\S+)").group(1) == key
    again.kill()
    assert FakeWise(seed=7).webhooks.public_key_b64 == key != FakeWise(seed=8).webhooks.public_key_b64

    async with WiseClient(personal_token=written["WISE_API_TOKEN"], base_url=base_url) as wise:
        await wise.transfers.list()
        async with httpx.AsyncClient() as http:
            state = (await http.get(state_url)).json()
            only = (await http.get(state_url, params={"only": "calls"})).json()
            unknown = await http.get(state_url, params={"only": "nope"})
    assert set(state) == {"transfers", "balances", "subscriptions", "calls", "deliveries"}
    assert {"profileId": 30000001, "currency": "GBP", "balanceId": 90000001, "value": "10000.00"} in state[
        "balances"
    ]
    assert [call["operationId"] for call in only["calls"]] == ["transferList"]  # the inspection is not a call
    assert unknown.status_code == 400


def test_serve_without_uvicorn_is_one_line(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['uvicorn'] = None\n"
        "from wise_async.testing.__main__ import main; sys.exit(main(['serve']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 2
    assert done.stderr == (
        "python -m wise_async.testing serve: serving over a socket needs uvicorn: "
        "pip install 'wise-async[server]'\n"
    )
