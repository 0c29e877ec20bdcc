"""``make spec``: fetch the Wise bundle into ``openapi/index.yaml``: the bundle ``openapi/spec.lock`` names.

``openapi/spec.lock`` records the digest and size of the bundle the committed surface lock was made from,
and where it came from without naming anything outside the repository: its URL, or for a file its name
(``wise-openapi/index.yaml``). Source, in order: ``WISE_SPEC`` (a path or an http(s) URL), the URL in the
lock, ``../shared/wise-openapi/index.yaml`` when present, else Wise's published bundle.

A source whose digest is not the lock's stops ``make spec`` and ``make generate`` with one line: nothing is
ever built from another spec than the lock's. ``make regenerate`` (``--regenerating``, then
``--update-lock``) is the one way to adopt a new spec, after printing what it changes.
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


def choose_source(env: dict[str, str], lock: Path | None = None) -> str:
    explicit = env.get("WISE_SPEC", "").strip()
    if explicit:
        return explicit
    recorded = read_lock(lock).get("source", "")
    if _is_url(recorded):
        return recorded
    if SHARED_COPY.exists():
        return str(SHARED_COPY)
    return PUBLISHED_URL


def local_spec_path(env: dict[str, str]) -> Path:
    """The spec file the tests read: ``WISE_SPEC`` when it names a file, else the fetched copy (what
    ``make generate`` built from), else the chosen source's file."""
    explicit = env.get("WISE_SPEC", "").strip()
    if explicit and not _is_url(explicit):
        return Path(explicit).expanduser()
    if TARGET.is_file():
        return TARGET
    source = choose_source(env)
    return TARGET if _is_url(source) else Path(source).expanduser()


def recorded_source(source: str) -> str:
    """``source`` as the lock records it: a URL as it is; a file by name only (its folder and file name),
    since its path belongs to one machine (``/tmp/...``, ``../shared`` through a symlink)."""
    if _is_url(source):
        return f"source {source}"
    path = Path(source).expanduser()
    return f"name {path.parent.name}/{path.name}" if path.parent.name else f"name {path.name}"


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
    recorded = f"{recorded_source(source)}\n" if source else ""
    path.write_text(
        "# Digest of the Wise OpenAPI bundle that openapi/surface.lock was generated from"
        " (make regenerate).\n"
        f"sha256 {digest}\nbytes {size}\n{recorded}",
        encoding="utf-8",
    )


def _locked_spec(facts: dict[str, str]) -> str:
    """``wise-openapi/index.yaml, sha256 12447ac8609c81f9…, 1206489 bytes``: the lock's spec for a reader."""
    where = facts.get("source") or facts.get("name") or "no recorded source"
    return f"{where}, sha256 {facts['sha256'][:16]}…, {facts.get('bytes', '?')} bytes"


def mismatch(content: bytes, what: str, lock: Path | None = None) -> str | None:
    """The one-line refusal when ``content`` (described as ``what``) is not the locked spec, else None."""
    facts = read_lock(lock)
    if "sha256" not in facts or hashlib.sha256(content).hexdigest() == facts["sha256"]:
        return None
    digest = hashlib.sha256(content).hexdigest()
    return (
        f"{what} (sha256 {digest[:16]}…) is not the spec openapi/spec.lock names ({_locked_spec(facts)}):"
        " set WISE_SPEC to that spec, or run `make regenerate` to review and adopt this one"
    )


def main(argv: list[str]) -> int:
    flags = argv[1:]
    if "--update-lock" in flags:  # adopt the spec `make regenerate` just generated from, not a fresh fetch
        content = TARGET.read_bytes()
        write_lock(hashlib.sha256(content).hexdigest(), len(content), source=choose_source(dict(os.environ)))
        print(f"spec: {LOCK.relative_to(ROOT)} updated")
        return 0
    if "--verify" in flags:  # `make test`: the fetched copy is the locked spec
        if not TARGET.is_file():
            print(f"spec: no {TARGET.relative_to(ROOT)}: run `make spec`", file=sys.stderr)
            return 1
        refused = mismatch(TARGET.read_bytes(), f"spec: {TARGET.relative_to(ROOT)}")
        print(
            refused or "spec: openapi/index.yaml matches openapi/spec.lock",
            file=sys.stderr if refused else None,
        )
        return 1 if refused else 0
    source = choose_source(dict(os.environ))
    content = read_source(source)
    digest = hashlib.sha256(content).hexdigest()
    regenerating = "--regenerating" in flags
    refused = None if regenerating else mismatch(content, f"spec: {source}")
    if refused:
        print(refused, file=sys.stderr)
        return 1
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(content)
    print(f"spec: {source} → {TARGET.relative_to(ROOT)} (sha256 {digest[:16]}…, {len(content)} bytes)")
    locked = read_lock().get("sha256")
    if locked is None:
        print(
            "spec: no openapi/spec.lock yet; "
            + ("it is created below" if regenerating else "run `make regenerate` to create it")
        )
    elif locked != digest:
        print(
            f"spec: a new spec (lock sha256 {locked[:16]}…, this one {digest[:16]}…): the changelog below"
            " shows what it changes, then the locks adopt it"
        )
    else:
        print("spec: matches openapi/spec.lock")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
