"""The one httpx auth flow every operation goes through.

``WiseAuth.async_auth_flow`` is a generator (like httpx's ``DigestAuth``): it prepares the request
(operation lookup, twcard host, correlation id, idempotency key), attaches the credential the
operation's ``security`` asks for, then reacts to Wise's answer:

* 401 ``invalid_token``/``unauthorized`` with a refreshable token → refresh once (single-flight), replay once;
* 403 with ``x-2fa-approval`` → the SCA handler approves the one-time token → replay the identical
  request once; a second 403 is returned as is and becomes ``ScaRejectedError``. Never a loop, and the
  SCA handler's own requests (OTT status, factor verification) never start SCA again.

Because this overrides ``async_auth_flow``, httpx's ``requires_*_body`` flags do nothing: the request
body is read here, and 401/403 bodies are read before they are inspected.

Intermediate responses end up in ``response.history``, as with any httpx auth flow.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator, Generator

import httpx

from ._api_version import pin_api_version
from ._environment import Environment
from ._exceptions import APIResponseValidationError, ConfigurationError, MissingCredentialsError
from ._header_values import check_header_fields, credential_problem
from ._hooks import approve_observed
from ._idempotency import apply_idempotency, random_uuid_text
from ._operations import OperationSpec, OperationTable
from ._options import SCA_HANDLER_EXTENSION, SCA_SEND_EXTENSION
from ._redaction import get_logger
from ._sca import APPROVAL_HEADER, ScaContext, ScaHandler, SendRaw
from ._tokens import ASKING_CLIENT, TokenProvider, TokenRequester

CORRELATION_HEADER = "X-External-Correlation-Id"
REFRESHABLE_401_ERRORS = {"invalid_token", "unauthorized"}
SCA_ATTEMPTED = "wise_sca_attempted"
SCA_SIDE_REQUEST = "wise_sca_side_request"
"""Request extension marking the SCA handler's own calls: a challenge on them is not solved again."""
logger = get_logger("auth")


class Credentials:
    """Which credential each operation gets, from its ``security`` requirements."""

    def __init__(
        self,
        *,
        user: TokenProvider | None,
        client_credentials: TokenProvider | None,
        client_id: str | None,
        client_secret: str | None,
    ) -> None:
        self.user = user
        self.client_credentials = client_credentials
        self._basic = (
            "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
            if client_id and client_secret
            else None
        )

    def __repr__(self) -> str:
        return (
            f"Credentials(user={self.user!r}, client_credentials={self.client_credentials!r}, "
            f"basic={'***' if self._basic else None})"
        )

    @property
    def basic(self) -> str:
        if self._basic is None:
            raise MissingCredentialsError(
                "this operation needs client_id and client_secret (HTTP Basic): pass them, or set "
                "WISE_CLIENT_ID and WISE_CLIENT_SECRET"
            )
        return self._basic

    def provider_for(self, op: OperationSpec | None) -> TokenProvider | None:
        if op is None:
            return self.user or self.client_credentials
        if op.client_credentials_only:
            provider = self.client_credentials or self.user
        elif not op.security:  # the spec says: no authentication at all
            return None
        elif op.allows_anonymous:  # a token if we have one (client credentials first), else none
            return self.client_credentials or self.user
        else:
            provider = self.user or self.client_credentials
        if provider is None:
            raise MissingCredentialsError(
                f"{op.operation_id} needs one of {sorted(op.token_kinds)}; the client has no token for it: "
                "pass personal_token= (or set WISE_API_TOKEN), access_token= and refresh_token=, or "
                "client_id= and client_secret= (or WISE_CLIENT_ID and WISE_CLIENT_SECRET)"
            )
        return provider


def _bearer(token: str) -> str:
    """The Authorization value for ``token``; refused (typed, value not shown) if no header can carry it."""
    problem = credential_problem(token)
    if problem is not None:
        raise ConfigurationError(f"the access token cannot be sent in an HTTP header: {problem} (not shown)")
    return f"Bearer {token}"


def _refreshable_401(response: httpx.Response) -> bool:
    """A 401 that says the token is bad (or says nothing usable): worth one refresh."""
    try:
        body = json.loads(response.content or b"{}")
    except (ValueError, RecursionError):
        return True
    error = body.get("error") if isinstance(body, dict) else None
    return not isinstance(error, str) or error in REFRESHABLE_401_ERRORS


class WiseAuth(httpx.Auth):
    """Auth, SCA and request preparation for every request of a ``WiseClient``."""

    requires_request_body = True  # idempotency keys may be written into JSON bodies; SCA replays them
    requires_response_body = True  # 401/403 bodies decide what happens next

    def __init__(
        self,
        *,
        credentials: Credentials,
        operations: OperationTable,
        environment: Environment,
        sca_handler: ScaHandler,
        send_raw: SendRaw,
        request_token: TokenRequester | None = None,
        optional_idempotency_headers: bool = True,
        api_version: str | None = None,
    ) -> None:
        self._credentials = credentials
        self._api_version = api_version
        self._operations = operations
        self._environment = environment
        self._base_path = httpx.URL(environment.base_url).path.rstrip("/")
        self._sca = sca_handler
        self._send_raw = send_raw
        self._request_token = request_token
        self._optional_idempotency = optional_idempotency_headers
        self._last_bearer = ("", "")  # the last token checked and its header value: the same for most calls

    def operation_for(self, request: httpx.Request) -> OperationSpec | None:
        path = request.url.path
        if self._base_path and path.startswith(self._base_path):
            path = path[len(self._base_path) :] or "/"
        return self._operations.match(request.method, path)

    def operation_at(self, method: str, path: str) -> OperationSpec | None:
        """The operation at ``path`` as the bundle writes it (``/v1/...``, no base path)."""
        return self._operations.match(method, path)

    def _bearer(self, token: str) -> str:
        last_token, value = self._last_bearer
        if token != last_token or not token:
            value = _bearer(token)
            self._last_bearer = (token, value)
        return value

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("wise-async is async-only: use httpx.AsyncClient")
        yield request  # pragma: no cover

    def _prepare(self, request: httpx.Request, op: OperationSpec | None) -> httpx.Request:
        if op is not None and op.api_version and self._api_version:
            request.url = pin_api_version(request.url, self._base_path, self._api_version)
        if op is not None and op.twcard:
            moved = self._environment.twcard_url(request.url)
            if moved != request.url:
                request.url = moved
                # httpx wrote Host from the original URL; it would still name the API host.
                request.headers["Host"] = moved.netloc.decode("ascii")
        if CORRELATION_HEADER not in request.headers:
            request.headers[CORRELATION_HEADER] = random_uuid_text()
        return apply_idempotency(request, op, optional_headers=self._optional_idempotency)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await request.aread()  # a replay (refresh, SCA) sends the same bytes again
        op = self.operation_for(request)
        request = self._prepare(request, op)
        provider: TokenProvider | None = None
        token = ""
        if op is not None and op.uses_basic_auth:
            request.headers["Authorization"] = self._credentials.basic
        elif "Authorization" not in request.headers:
            provider = self._credentials.provider_for(op)
            if provider is not None:
                asking = ASKING_CLIENT.set(self._request_token)
                try:
                    token = await provider.get_token()
                finally:
                    ASKING_CLIENT.reset(asking)
                request.headers["Authorization"] = self._bearer(token)

        response = yield request

        if response.status_code == 401 and provider is not None:
            await response.aread()
            asking = ASKING_CLIENT.set(self._request_token)
            try:
                refreshed = _refreshable_401(response) and await provider.invalidate(token)
                if refreshed:
                    token = await provider.get_token()
            finally:
                ASKING_CLIENT.reset(asking)
            if refreshed:
                logger.info(
                    "401 from Wise: token refreshed, replaying %s %s once", request.method, request.url.path
                )
                request.headers["Authorization"] = self._bearer(token)
                response = yield request

        if response.status_code != 403 or request.extensions.get(SCA_SIDE_REQUEST):
            return
        one_time_token = response.headers.get(APPROVAL_HEADER)
        if one_time_token and APPROVAL_HEADER not in request.headers:
            await response.aread()
            problem = credential_problem(one_time_token)
            if problem is not None:
                raise APIResponseValidationError(
                    response,
                    f"Wise's {APPROVAL_HEADER} header is not a one-time token that can be sent: {problem}",
                )
            send = request.extensions.get(SCA_SEND_EXTENSION) or self._send_raw
            context = ScaContext(one_time_token, request, response, op, send)
            handler: ScaHandler = request.extensions.get(SCA_HANDLER_EXTENSION) or self._sca
            approval = await approve_observed(handler, context)
            check_header_fields("the SCA handler's approval", approval, ConfigurationError)
            request.headers.update(approval)
            request.extensions[SCA_ATTEMPTED] = True
            logger.info("SCA approved, replaying %s %s once", request.method, request.url.path)
            yield request
