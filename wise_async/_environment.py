"""Where requests go: Wise's sandbox, production, or a custom base URL (a fake, a proxy, Prism)."""

from __future__ import annotations

from typing import Literal

import attrs
import httpx

EnvironmentName = Literal["sandbox", "production"]


@attrs.frozen
class Environment:
    """The API host and the separate host of the card-secret (twcard) operations."""

    name: str
    base_url: str
    twcard_base_url: str | None

    @property
    def is_production(self) -> bool:
        return self.name == "production"

    def twcard_url(self, url: httpx.URL) -> httpx.URL:
        """Move a twcard operation's request to the twcard base URL (no-op for custom environments).

        A path prefix of ``base_url`` is replaced by the one of ``twcard_base_url`` (both may be proxies).
        """
        if self.twcard_base_url is None:
            return url
        target = httpx.URL(self.twcard_base_url)
        base_path = httpx.URL(self.base_url).path.rstrip("/")
        path = url.path
        if base_path and (path == base_path or path.startswith(base_path + "/")):
            path = path[len(base_path) :]
        path = target.path.rstrip("/") + path
        return url.copy_with(scheme=target.scheme, host=target.host, port=target.port, path=path)


SANDBOX = Environment("sandbox", "https://api.wise-sandbox.com", "https://twcard.wise-sandbox.com")
PRODUCTION = Environment("production", "https://api.wise.com", "https://twcard.wise.com")


def resolve_environment(
    environment: EnvironmentName | Environment, base_url: str | None, twcard_base_url: str | None
) -> Environment:
    """A custom ``base_url`` wins; its twcard host is the same base unless one is given."""
    if base_url is not None:
        return Environment("custom", base_url.rstrip("/"), twcard_base_url)
    if isinstance(environment, Environment):
        resolved = environment
    elif environment == "sandbox":
        resolved = SANDBOX
    elif environment == "production":
        resolved = PRODUCTION
    else:
        raise ValueError(
            f"environment must be 'sandbox', 'production' or an Environment, not {environment!r}"
        )
    if twcard_base_url is not None:  # an explicit twcard URL overrides the environment's
        resolved = attrs.evolve(resolved, twcard_base_url=twcard_base_url.rstrip("/"))
    return resolved
