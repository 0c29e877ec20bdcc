"""``make spec``: fetch the Wise bundle into ``openapi/index.yaml`` and check it against the lock.

Source, in order: ``WISE_SPEC`` (a path or an http(s) URL), ``../shared/wise-openapi/index.yaml`` when
present, else Wise's published bundle. ``openapi/spec.lock`` records the digest the committed surface
lock was made from; a different spec is reported plainly (``make regenerate`` reviews and adopts it).
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


def choose_source(env: dict[str, str]) -> str:
    explicit = env.get("WISE_SPEC", "").strip()
    if explicit:
        return explicit
    if SHARED_COPY.exists():
        return str(SHARED_COPY)
    return PUBLISHED_URL


def read_source(source: str) -> bytes:
    if source.startswith(("http://", "https://")):
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


def write_lock(digest: str, size: int, path: Path | None = None) -> None:
    path = LOCK if path is None else path
    path.write_text(
        "# Digest of the Wise OpenAPI bundle that openapi/surface.lock was generated from"
        " (make regenerate).\n"
        f"sha256 {digest}\nbytes {size}\n",
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
        write_lock(digest, len(content))
        print(f"spec: {LOCK.relative_to(ROOT)} updated")
        return 0
    locked = read_lock().get("sha256")
    if locked is None:
        print("spec: no openapi/spec.lock yet; run `make regenerate` to create it")
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
