"""``make demo`` (examples/payout_demo.py): every step passes and says so; a failing step exits 1."""

from __future__ import annotations

import re

import pytest

from examples import payout_demo
from wise_async.testing import FakeWise

STEPS = ["oauth", "profile", "quote", "recipient", "transfer", "funding", "webhook", "statement", "card"]


def test_demo_narrates_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert payout_demo.main() == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.match(r"wise-async demo: FakeWise on http://127\.0\.0\.1:\d+ \(uvicorn\)", lines[0])
    steps = [line.split("]")[1].split()[0] for line in lines if re.match(r"\[ ?\d+\] ", line)]
    assert steps == STEPS
    assert re.search(
        r"\] transfer +50000001: 100\.00 GBP → [\d.]+ EUR; .* 2 attempts, 1 transfer", "\n".join(lines)
    )
    assert re.search(r"\] transfer .* the process crashed before funding", "\n".join(lines))
    assert re.search(
        r"\] funding +payouts\.send again .* found transfer 50000001, .* 1 transfer, 1 funding",
        "\n".join(lines),
    )
    assert re.search(r"\] webhook +.* → outgoing_payment_sent; .* woke on the webhook", "\n".join(lines))
    assert "4396910000012345" not in "\n".join(lines)  # the card number is never printed
    assert re.fullmatch(r"demo: 9 steps passed in [\d.]+ s", lines[-1])


def test_a_failing_step_fails_the_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(FakeWise, "register_sca_public_key", lambda self, pem: None)  # Wise lacks the key
    assert payout_demo.main() == 1
    captured = capsys.readouterr()
    assert re.search(r"\] funding +FAILED: ScaRejectedError", captured.out)
    assert "statement" not in captured.out
    assert "demo: FAILED" in captured.err
