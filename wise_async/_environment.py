"""Where requests go: Wise's sandbox, production, or a custom base URL (a fake, a proxy, Prism)."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import httpx

from ._exceptions import ConfigurationError
from ._record import Record, record, set_field

EnvironmentName = Literal["sandbox", "production"]


@record
class Environment(Record):
    """The API host and the separate host of the card-secret (twcard) operations."""

    name: str
    base_url: str
    twcard_base_url: str | None
    authorize_url: str | None = None
    """Wise's OAuth authorization page (another host than the API's); custom: ``{base}/oauth/authorize/``."""

    def __init__(
        self, name: str, base_url: str, twcard_base_url: str | None, authorize_url: str | None = None
    ) -> None:
        set_field(self, "name", name)
        set_field(self, "base_url", base_url)
        set_field(self, "twcard_base_url", twcard_base_url)
        set_field(self, "authorize_url", authorize_url)

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


SANDBOX = Environment(
    "sandbox",
    "https://api.wise-sandbox.com",
    "https://twcard.wise-sandbox.com",
    "https://sandbox.transferwise.tech/oauth/authorize/",
)
PRODUCTION = Environment(
    "production", "https://api.wise.com", "https://twcard.wise.com", "https://wise.com/oauth/authorize/"
)


_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _is_loopback(host: str) -> bool:
    return host in _LOOPBACK_HOSTS or host.startswith("127.") or host.endswith(".localhost")


def check_transport_security(url: str, *, allow_insecure_http: bool) -> None:
    """Refuse to send credentials in cleartext: ``http://`` only to loopback, unless the caller opts in."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise ConfigurationError("base URL is not a URL") from None
    if parsed.scheme not in ("http", "https"):
        raise ConfigurationError(f"base URL must be http(s), not {parsed.scheme[:20]!r}")
    if not parsed.host:
        raise ConfigurationError("base URL has no host")
    if parsed.scheme == "http" and not allow_insecure_http and not _is_loopback(parsed.host):
        raise ConfigurationError(
            f"refusing http:// to {parsed.host}: tokens would travel in cleartext. Use https://, "
            "or pass allow_insecure_http=True for a trusted network (e.g. a sidecar proxy)"
        )


def resolve_environment(
    environment: EnvironmentName | Environment | None,
    base_url: str | None,
    twcard_base_url: str | None,
    *,
    allow_insecure_http: bool = False,
) -> Environment:
    """The named environment (sandbox when neither is given), or a custom ``base_url`` whose twcard host is
    the same base unless one is given. Both given: they must name the same API host, or nothing is sent."""
    for url in (base_url, twcard_base_url):
        if url is not None:
            check_transport_security(url, allow_insecure_http=allow_insecure_http)
    if base_url is not None:
        base = base_url.rstrip("/")
        if environment is not None:
            named = _named(environment)
            if named.base_url != base:
                raise ConfigurationError(
                    f"environment={named.name!r} sends to {named.base_url}, but base_url= says another "
                    "host: pass one of them (a proxy or fake: base_url= alone)"
                )
        else:
            return Environment("custom", base, twcard_base_url, f"{base}/oauth/authorize/")
    resolved = _named(environment if environment is not None else "sandbox")
    if twcard_base_url is not None:  # an explicit twcard URL overrides the environment's
        resolved = replace(resolved, twcard_base_url=twcard_base_url.rstrip("/"))
    return resolved


def _named(environment: EnvironmentName | Environment) -> Environment:
    if isinstance(environment, Environment):
        resolved = environment
    elif environment == "sandbox":
        resolved = SANDBOX
    elif environment == "production":
        resolved = PRODUCTION
    else:
        shown = environment[:20] if isinstance(environment, str) else type(environment).__name__
        raise ConfigurationError(
            f"environment must be 'sandbox', 'production' or an Environment, not {shown!r}"
        )
    return resolved
