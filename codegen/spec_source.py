"""``make spec``: fetch the Wise bundle into ``openapi/index.yaml`` and check it against the lock.

Source, in order: ``WISE_SPEC`` (a path or an http(s) URL), the source recorded in ``openapi/spec.lock``
(when it still exists), ``../shared/wise-openapi/index.yaml`` when present, else Wise's published bundle.
``openapi/spec.lock`` records the digest and source the committed surface lock was made from, so after
``WISE_SPEC=... make regenerate`` every later ``make`` (and the tests) use that spec without ``WISE_SPEC``.
A different spec is reported plainly; ``make regenerate`` reviews and adopts it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_COPY = ROOT.parent / "shared" / "wise-openapi" / "index.yaml"
PUBLISHED_URL = "https://docs.wise.com/_bundle/api-reference/index.yaml"
TARGET = ROOT / "openapi" / "index.yaml"
LOCK = ROOT / "openapi" / "spec.lock"


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _resolve(source: str) -> str:
    """A recorded source as usable here: URLs as they are, paths relative to the repository root."""
    if _is_url(source):
        return source
    path = Path(source).expanduser()
    return str((path if path.is_absolute() else ROOT / path).resolve())


def choose_source(env: dict[str, str], lock: Path | None = None) -> str:
    explicit = env.get("WISE_SPEC", "").strip()
    if explicit:
        return explicit
    recorded = read_lock(lock).get("source")
    if recorded and (_is_url(recorded) or Path(_resolve(recorded)).is_file()):
        return _resolve(recorded)
    if SHARED_COPY.exists():
        return str(SHARED_COPY)
    return PUBLISHED_URL


def local_spec_path(env: dict[str, str]) -> Path:
    """The spec file the tests compare against: the chosen source, or the fetched copy for a URL."""
    source = choose_source(env)
    return TARGET if _is_url(source) else Path(source).expanduser()


def _recordable(source: str) -> str:
    """``source`` as written into the lock: relative to the repository root when beside it."""
    if _is_url(source):
        return source
    path = Path(source).expanduser().resolve()
    try:
        return (
            os.path.relpath(path, ROOT.resolve()) if path.is_relative_to(ROOT.resolve().parent) else str(path)
        )
    except ValueError:  # another drive
        return str(path)


def read_source(source: str) -> bytes:
    if _is_url(source):
        import httpx

        response = httpx.get(source, follow_redirects=True, timeout=60.0)
        response.raise_for_status()
        return response.content
    return Path(source).expanduser().read_bytes()


def read_lock(path: Path | None = None) -> dict[str, str]:
    path = LOCK if path is None else path  # looked up at call time, not bound at import
    facts: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#") and " " in line:
                key, value = line.split(" ", 1)
                facts[key] = value.strip()
    return facts


def write_lock(digest: str, size: int, path: Path | None = None, *, source: str | None = None) -> None:
    path = LOCK if path is None else path
    recorded = f"source {_recordable(source)}\n" if source else ""
    path.write_text(
        "# Digest of the Wise OpenAPI bundle that openapi/surface.lock was generated from"
        " (make regenerate).\n"
        f"sha256 {digest}\nbytes {size}\n{recorded}",
        encoding="utf-8",
    )


def main(argv: list[str]) -> int:
    source = choose_source(dict(os.environ))
    content = read_source(source)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    print(f"spec: {source} → {TARGET.relative_to(ROOT)} (sha256 {digest[:16]}…, {len(content)} bytes)")
    if "--update-lock" in argv[1:]:
        write_lock(digest, len(content), source=source)
        print(f"spec: {LOCK.relative_to(ROOT)} updated")
        return 0
    locked = read_lock().get("sha256")
    regenerating = "--regenerating" in argv[1:]
    if locked is None:
        print(
            "spec: no openapi/spec.lock yet; "
            + ("it is created below" if regenerating else "run `make regenerate` to create it")
        )
    elif locked != digest and regenerating:
        print(
            f"spec: a new spec (lock sha256 {locked[:16]}…, this one {digest[:16]}…): the changelog below"
            " shows what it changes, then the locks adopt it"
        )
    elif locked != digest:
        print(
            f"spec: NOTE this is not the spec the locks were made from (lock sha256 {locked[:16]}…, "
            f"this one {digest[:16]}…). Run `make regenerate` to see the API changes and adopt it."
        )
    else:
        print("spec: matches openapi/spec.lock")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
