"""What `from wise_async import WiseClient` loads beyond httpx: heavy modules wait for their first use.

`make bench` times the import (`import_wise_async`); this guards the module set that timing depends on,
so a stray module-level import (asyncio costs ~15% of httpx's own import) fails here, not in a benchmark.
"""

from __future__ import annotations

import json
import subprocess
import sys

DEFERRED = {
    "anyio",
    "asyncio",
    "attr",
    "attrs",
    "opentelemetry",  # wise_async.otel only: a client without OpenTelemetryHooks never loads it
    "uuid",
    "platform",
    "wise_api.models",
    "wise_async._namespace",
}

_CHILD = """
import json, sys
for name in ("click", "rich", "pygments"):  # httpx's CLI extras, absent from a user's venv
    sys.modules[name] = None
import httpx
before = set(sys.modules)
from wise_async import WiseClient
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_the_client_imports_without_the_modules_its_first_use_loads() -> None:
    done = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert "wise_async._client" in loaded
    early = {
        m for m in loaded if m in DEFERRED or m.split(".")[0] in DEFERRED or m.startswith("wise_api.models.")
    }
    assert not early, f"loaded by the import: {sorted(early)}"


_COMPILES = """
import json, sys, traceback
for name in ("click", "rich", "pygments"):
    sys.modules[name] = None
import httpx
seen = []
def hook(event, args):
    if event == "compile":
        frames = traceback.extract_stack()[:-1]
        source = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
        seen.append([source[:200], *(frame.filename for frame in frames[-3:])])
sys.addaudithook(hook)
from wise_async import WiseClient
print(json.dumps(seen))
"""


def test_the_import_compiles_no_generated_code() -> None:
    """Value classes are records, not `@dataclass(frozen=True)`: nothing is built from source text at
    import (dataclasses compiled six methods per class with exec, nearly half of the import beyond httpx).
    Compiling a module without a .pyc, typing's string annotations (a few µs each) and Python 3.13's
    empty function builder (dataclasses compiles `return ()` even when it adds no method) are allowed."""
    done = subprocess.run([sys.executable, "-c", _COMPILES], capture_output=True, text=True, check=True)
    compiled_by = [
        (source, *stack)
        for source, *stack in json.loads(done.stdout)
        if not stack[-1].startswith("<frozen importlib")
        and not stack[-1].endswith("typing.py")
        and " ".join(source.split()) != "def __create_fn__(): return ()"
    ]
    assert compiled_by == [], compiled_by
