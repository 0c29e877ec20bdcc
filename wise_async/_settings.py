"""Configuration from the environment: what a ``WiseClient()`` reads when an argument is not given.

========================  =====================================================================
``WISE_API_TOKEN``        a personal API token
``WISE_CLIENT_ID``        OAuth client id (with ``WISE_CLIENT_SECRET``: client credentials, refresh)
``WISE_CLIENT_SECRET``    OAuth client secret
``WISE_ENVIRONMENT``      ``sandbox`` (default) or ``production``
``WISE_BASE_URL``         a custom API base URL (a gateway, a mock); not beside another ``WISE_ENVIRONMENT``
``WISE_LOG``              ``debug`` or ``info``: the SDK's redacted log lines to stderr
``WISE_HTTP_BACKEND``     ``aiohttp`` (default) or ``httpcore``: the connection pool on asyncio
========================  =====================================================================

Explicit arguments always win over the environment.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import field
from typing import Literal, cast

from ._exceptions import ConfigurationError
from ._record import Record, record, set_field
from ._redaction import LOGGER_NAME

VARIABLES = (
    "WISE_API_TOKEN",
    "WISE_CLIENT_ID",
    "WISE_CLIENT_SECRET",
    "WISE_ENVIRONMENT",
    "WISE_BASE_URL",
    "WISE_LOG",
    "WISE_HTTP_BACKEND",
)
HTTP_BACKENDS = ("aiohttp", "httpcore")
_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}


@record
class EnvironmentSettings(Record):
    """The ``WISE_*`` variables a client reads, validated; ``None`` where a variable is unset or blank."""

    api_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    environment: Literal["sandbox", "production"] | None = None
    base_url: str | None = None
    log: str | None = None
    http_backend: Literal["aiohttp", "httpcore"] | None = None

    def __init__(
        self,
        api_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        environment: Literal["sandbox", "production"] | None = None,
        base_url: str | None = None,
        log: str | None = None,
        http_backend: Literal["aiohttp", "httpcore"] | None = None,
    ) -> None:
        set_field(self, "api_token", api_token)
        set_field(self, "client_id", client_id)
        set_field(self, "client_secret", client_secret)
        set_field(self, "environment", environment)
        set_field(self, "base_url", base_url)
        set_field(self, "log", log)
        set_field(self, "http_backend", http_backend)

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> EnvironmentSettings:
        env = os.environ if environ is None else environ

        def value(name: str) -> str | None:
            text = env.get(name, "").strip()
            return text or None

        environment = value("WISE_ENVIRONMENT")
        if environment is not None and environment.lower() not in ("sandbox", "production"):
            raise ConfigurationError(
                f"WISE_ENVIRONMENT must be 'sandbox' or 'production', not {environment[:20]!r}"
            )
        log = value("WISE_LOG")
        if log is not None and log.lower() not in _LOG_LEVELS:
            raise ConfigurationError(f"WISE_LOG must be 'debug' or 'info', not {log[:20]!r}")
        backend = value("WISE_HTTP_BACKEND")
        if backend is not None and backend.lower() not in HTTP_BACKENDS:
            raise ConfigurationError(
                f"WISE_HTTP_BACKEND must be 'aiohttp' or 'httpcore', not {backend[:20]!r}"
            )
        return cls(
            api_token=value("WISE_API_TOKEN"),
            client_id=value("WISE_CLIENT_ID"),
            client_secret=value("WISE_CLIENT_SECRET"),
            environment=cast("Literal['sandbox', 'production'] | None", environment and environment.lower()),
            base_url=value("WISE_BASE_URL"),
            log=log and log.lower(),
            http_backend=cast("Literal['aiohttp', 'httpcore'] | None", backend and backend.lower()),
        )

    def configure_logging(self) -> None:
        """``WISE_LOG``: send the SDK's (redacted) records to stderr at that level, once per process."""
        if self.log is None:
            return
        logger = logging.getLogger(LOGGER_NAME)
        logger.setLevel(_LOG_LEVELS[self.log])
        if not any(getattr(h, "_wise_log", False) for h in logger.handlers):
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            handler._wise_log = True  # type: ignore[attr-defined]
            logger.addHandler(handler)
