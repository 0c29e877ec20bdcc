"""The public surface of wise_async is deliberate: every exported name exists and is listed once."""

from __future__ import annotations

import wise_async
import wise_async.testing


def test_all_names_exist_and_are_listed_once() -> None:
    for module in (wise_async, wise_async.testing):
        names = module.__all__
        assert len(names) == len(set(names))
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name} is listed in __all__ but missing"


def test_private_modules_are_not_exported() -> None:
    assert not [name for name in wise_async.__all__ if name.startswith("_") and name != "__version__"]


def test_core_names_are_public() -> None:
    expected = {
        "WiseClient",
        "WiseError",
        "APIStatusError",
        "ScaRequiredError",
        "ScaRejectedError",
        "RateLimitError",
        "PrivateKeyScaSigner",
        "PartnerScaSolver",
        "RetryPolicy",
        "WiseResponse",
    }
    assert expected <= set(wise_async.__all__)
