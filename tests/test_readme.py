"""The README's Python examples stay true: each block compiles, and every name it imports from
wise_async / wise_api exists (so a rename cannot leave the docs behind)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_example_compiles_and_imports_real_names(source: str) -> None:
    tree = compile(source, "README.md", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] in ("wise_async", "wise_api")
        ):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), (
                    f"README imports {node.module}.{alias.name}, which does not exist"
                )


def _wise_attribute_chains(source: str) -> set[tuple[str, ...]]:
    """``wise.transfers.create`` → ("transfers", "create"): what the examples call on a client."""
    chains: set[tuple[str, ...]] = set()
    tree = compile(source, "README.md", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    for node in ast.walk(tree):
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id == "wise" and parts:
            chains.add(tuple(reversed(parts))[:2])
    return chains


async def test_client_attributes_used_in_examples_exist() -> None:
    from wise_async import WiseClient

    chains = set().union(*(_wise_attribute_chains(block) for block in BLOCKS))
    assert ("transfers", "create") in chains
    async with WiseClient(personal_token="docs") as wise:
        for chain in sorted(chains):
            target: object = wise
            for name in chain:
                assert hasattr(target, name), f"README uses wise.{'.'.join(chain)}, which does not exist"
                target = getattr(target, name)
