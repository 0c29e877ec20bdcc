"""FakeWise refuses what Wise refuses: every row of the rule table, checked through the SDK against the fake
served by uvicorn on a loopback socket, and the ``rules`` command that lists and checks them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from wise_async import WiseClient
from wise_async.testing import FakeWise, _routes_transfers, serve_asgi
from wise_async.testing import _transfer_states as transfer_states
from wise_async.testing.__main__ import main
from wise_async.testing._rule_checks import CHECKS, Connect, check_rule, sdk_options
from wise_async.testing._rules import RULES, rule


@contextlib.asynccontextmanager
async def served(fake: FakeWise) -> AsyncIterator[Connect]:
    async with serve_asgi(fake.asgi_app) as server:
        yield lambda **credentials: WiseClient(base_url=server.base_url, **sdk_options(fake), **credentials)


def test_every_rule_has_a_check_and_a_source() -> None:
    assert list(CHECKS) == [entry.name for entry in RULES]
    for entry in RULES:
        assert entry.source and entry.operation in entry.source
        assert (entry.status == 200) == (entry.shape != "errors")


@pytest.mark.parametrize("entry", RULES, ids=lambda entry: entry.name)
async def test_rule_is_enforced_over_loopback(entry: object) -> None:
    assert entry in RULES
    assert await check_rule(rule(entry.name), served) is None  # type: ignore[attr-defined]


async def test_a_check_fails_when_the_fake_lets_the_breach_through(monkeypatch: pytest.MonkeyPatch) -> None:
    anything = frozenset(
        {"incoming_payment_waiting", "processing", "funds_converted", "outgoing_payment_sent"}
    )
    monkeypatch.setitem(transfer_states.SIMULATED_FROM, "outgoing_payment_sent", anything)
    problem = await check_rule(rule("simulation-transitions"))
    assert problem is not None and "the breach was accepted" in problem
    late = transfer_states.CANCELLABLE | {"funds_converted", "outgoing_payment_sent"}
    monkeypatch.setattr(_routes_transfers, "CANCELLABLE", late)
    problem = await check_rule(rule("cancel-not-after-conversion"))
    assert problem is not None and "cancel-not-after-conversion" in problem


def test_rules_command_lists_each_rule_with_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == f"fake rules: {len(RULES)}/{len(RULES)} enforced"
    for entry in RULES:
        assert f"ok   {entry.name} ({entry.operation})" in out
    assert "409 transfer.cancellation.not.allowed; body errors" in out
    assert main(["rules", "--quiet"]) == 0  # what make test runs: only what is not enforced
    assert capsys.readouterr().out == f"fake rules: {len(RULES)}/{len(RULES)} enforced\n"


def test_the_readme_lists_every_rule() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for entry in RULES:
        assert f"| `{entry.name}`: " in readme and f"| `{entry.operation}` |" in readme
    assert f"fake rules: {len(RULES)}/{len(RULES)} enforced" in readme
