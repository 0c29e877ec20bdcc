"""A FakeWise with a EUR recipient and the user's SCA key, and what the payout tests count at Wise."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wise_async import PrivateKeyScaSigner, RetryPolicy, WiseClient
from wise_async.testing import FakeWise

IBAN = "DE89370400440532013000"
AMOUNT = Decimal("100")
NO_WAIT = RetryPolicy(max_retries=2, initial_delay=0.0, max_delay=0.0)
FIGURES: list[str] = []
CRASH_POINTS: dict[str, int] = {"total": 0, "passed": 0}


def report_figure(line: str) -> None:
    """A measured figure the payout tests assert; printed in their own section at the end of the run."""
    print(line)
    FIGURES.append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = list(FIGURES)
    if CRASH_POINTS["total"]:
        passed, total = CRASH_POINTS["passed"], CRASH_POINTS["total"]
        lines.insert(0, f"payouts: {passed}/{total} crash points → 1 transfer, 1 funding")
    if lines:
        terminalreporter.section("payout figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass
class Bank:
    """Wise's side: the fake, the payer's profile and a EUR recipient."""

    fake: FakeWise
    token: str
    profile_id: int
    recipient_id: int
    opening: Decimal

    def payout(self, key: str = "invoice-1843", **overrides: Any) -> dict[str, Any]:
        """``payouts.send`` keywords for a GBP 100 → EUR payout."""
        args: dict[str, Any] = {
            "recipient": self.recipient_id,
            "source_currency": "GBP",
            "target_currency": "EUR",
            "source_amount": AMOUNT,
            "reference": "Invoice 1843",
            "key": key,
        }
        return {**args, **overrides}

    def fundings(self) -> int:
        return sum(1 for m in self.fake.balance_movements if m.reason == "TRANSFER_FUNDING")

    def debited(self) -> Decimal:
        return self.opening - self.fake.balance(self.profile_id, "GBP")

    def client(self, key: rsa.RSAPrivateKey, **kwargs: Any) -> WiseClient:
        kwargs.setdefault("transport", self.fake.transport())
        kwargs.setdefault("retry_policy", NO_WAIT)
        return WiseClient(
            personal_token=self.token,
            clock=self.fake.clock.now,
            sca_handler=PrivateKeyScaSigner(key),
            **kwargs,
        )


def open_bank(key: rsa.RSAPrivateKey, fake: FakeWise | None = None) -> Bank:
    fake = fake or FakeWise()
    fake.register_sca_public_key(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    profile_id = fake.personal_profile_id
    (recipient_id,) = fake.seed_recipients(1, profile_id=profile_id, currency="EUR")
    opening = fake.balance(profile_id, "GBP")
    return Bank(fake, fake.add_personal_token(), profile_id, recipient_id, opening)


@pytest.fixture
def bank(rsa_key: rsa.RSAPrivateKey) -> Iterator[Bank]:
    yield open_bank(rsa_key)
