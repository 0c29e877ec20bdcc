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
        """Move a twcard operation's request to the twcard host (no-op for custom environments)."""
        if self.twcard_base_url is None:
            return url
        target = httpx.URL(self.twcard_base_url)
        return url.copy_with(scheme=target.scheme, host=target.host, port=target.port)


SANDBOX = Environment("sandbox", "https://api.wise-sandbox.com", "https://twcard.wise-sandbox.com")
PRODUCTION = Environment("production", "https://api.wise.com", "https://twcard.wise.com")


def resolve_environment(
    environment: EnvironmentName | Environment, base_url: str | None, twcard_base_url: str | None
) -> Environment:
    """A custom ``base_url`` wins; its twcard host is the same base unless one is given."""
    if base_url is not None:
        return Environment("custom", base_url.rstrip("/"), twcard_base_url)
    if isinstance(environment, Environment):
        return environment
    if environment == "sandbox":
        return SANDBOX
    if environment == "production":
        return PRODUCTION
    raise ValueError(f"environment must be 'sandbox', 'production' or an Environment, not {environment!r}")
