"""Build hook: put the generated ``wise_api`` package into the wheel and the sdist.

``generated/`` is git-ignored (it is build output), and hatchling leaves git-ignored files out of every
build, so the wheel would hold ``wise_async`` alone and fail on its first import. This hook adds the
generated package file by file: in the wheel as ``wise_api/``, in the sdist as ``generated/wise_api/``
(so a wheel built from the sdist needs neither the spec nor the code generator).

Editable installs skip the hook: they read ``generated/`` in place (``dev-mode-dirs``), and
``make install`` runs before anything is generated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

GENERATED = Path("generated") / "wise_api"
# what a package needs at run time: modules and the PEP 561 marker (no bytecode, no surface listing)
SHIPPED_SUFFIXES = {".py", ".typed"}


class GeneratedPackageHook(BuildHookInterface):
    PLUGIN_NAME = "generated-package"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        package = root / GENERATED
        if not (package / "__init__.py").is_file() or not (package / "py.typed").is_file():
            raise RuntimeError(
                f"{GENERATED}/ is missing or incomplete: wise-async's low-level client is generated from "
                "Wise's OpenAPI spec at build time and never committed. Run `make dist` (or `make generate` "
                "and then your build command) in a checkout with ../shared beside it, or install from a "
                "released wheel or sdist, which carry the generated code."
            )
        prefix = Path("wise_api") if self.target_name == "wheel" else GENERATED
        for path in sorted(package.rglob("*")):
            if path.is_file() and path.suffix in SHIPPED_SUFFIXES and "__pycache__" not in path.parts:
                relative = path.relative_to(package)
                build_data["force_include"][str(path)] = str(prefix / relative)
