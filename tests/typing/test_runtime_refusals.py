"""The typing suite's mistakes made without a type checker: each is refused before anything is sent.

Every ``programs/mistake_*.py`` that calls Wise (``async def main(wise, ...)``) runs against FakeWise: it
must raise (``InvalidRequestError`` for a value; ``TypeError`` or ``AttributeError`` where Python itself
refuses an argument or a name) and
FakeWise must have seen no request; a program's ``REFUSAL`` (when it has one) is part of the message, such as
the path of the field refused. Deprecated operations are not mistakes at run time: they warn once
and are sent. Mistakes only a type checker can see (a webhook field, an unchecked ``None``) have no
``main``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import uuid
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from wise_async import InvalidRequestError, WiseClient, WiseError
from wise_async.testing import FakeWise

PROGRAMS = Path(__file__).resolve().parent / "programs"


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"typing_program_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def callers() -> list[tuple[Path, ModuleType]]:
    found = []
    for path in sorted(PROGRAMS.glob("mistake_*.py")):
        module = load(path)
        if hasattr(module, "main"):
            found.append((path, module))
    return found


CALLERS = callers()
REFUSED = [(p, m) for p, m in CALLERS if not getattr(m, "DEPRECATED", False)]
DEPRECATED = [(p, m) for p, m in CALLERS if getattr(m, "DEPRECATED", False)]


def arguments(main: Any, wise: WiseClient) -> list[Any]:
    """``wise`` and, for the other parameters, a value of their annotated type."""
    values: list[Any] = [wise]
    for parameter in list(inspect.signature(main).parameters.values())[1:]:
        values.append(uuid.uuid4() if "UUID" in str(parameter.annotation) else 1)
    return values


class _Figures:
    def __init__(self) -> None:
        self.refused = 0

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.write_line(f"runtime: {self.refused}/{len(REFUSED)} refused before sending")


@pytest.fixture(scope="module")
def figures(request: pytest.FixtureRequest) -> _Figures:
    found = _Figures()
    request.config.pluginmanager.register(found, "runtime-figures")
    return found


@pytest.mark.parametrize(("path", "module"), REFUSED, ids=[p.stem for p, _ in REFUSED])
async def test_each_mistake_is_refused_before_sending(
    path: Path, module: ModuleType, figures: _Figures
) -> None:
    fake = FakeWise()
    async with WiseClient(personal_token=fake.add_personal_token(), transport=fake.transport()) as wise:
        with pytest.raises((InvalidRequestError, TypeError, AttributeError)) as caught:
            await module.main(*arguments(module.main, wise))
    assert fake.requests == [], f"{path.name}: {len(fake.requests)} request(s) reached FakeWise"
    assert str(caught.value)
    assert getattr(module, "REFUSAL", "") in str(caught.value)
    figures.refused += 1


def test_the_suite_makes_enough_mistakes_at_run_time() -> None:
    assert len(REFUSED) >= 25


@pytest.mark.parametrize(("path", "module"), DEPRECATED, ids=[p.stem for p, _ in DEPRECATED])
async def test_a_deprecated_operation_warns_once_at_run_time(
    path: Path, module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("wise_async._namespace._WARNED", set())  # as in a fresh process
    fake = FakeWise()
    async with WiseClient(personal_token=fake.add_personal_token(), transport=fake.transport()) as wise:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            for _ in range(2):
                with contextlib.suppress(WiseError):  # FakeWise's answer does not matter here
                    await module.main(*arguments(module.main, wise))
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(messages) == 1 and "is deprecated in Wise's API spec" in messages[0], messages
    assert caught[0].filename == str(path)  # points at the caller's line


async def test_a_float_in_extra_body_is_refused_before_sending() -> None:
    """extra_body is untyped (any JSON the spec does not know yet), so only run time can refuse a float."""
    fake = FakeWise()
    async with WiseClient(personal_token=fake.add_personal_token(), transport=fake.transport()) as wise:
        with pytest.raises(
            InvalidRequestError, match=r'extra_body\.fee: a float \(1\.5\).*Decimal\("1\.5"\)'
        ):
            await wise.quotes.create(
                fake.personal_profile_id,
                body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": 10},
                extra_body={"fee": 1.5},
            )
    assert fake.requests == []
