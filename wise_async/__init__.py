"""wise-async: the async Python SDK for the Wise Platform API.

Start with :class:`WiseClient`; every operation of Wise's OpenAPI spec is a typed method on one of its
namespaces (``wise.transfers.create``, ``wise.quotes.get`` ...). Errors are in one hierarchy rooted at
:class:`WiseError`; :mod:`wise_async.testing` has ``FakeWise`` for tests; :mod:`wise_async.webhooks`
verifies and parses webhook deliveries.
"""

from ._client import WiseClient
from ._environment import PRODUCTION, SANDBOX, Environment
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AuthorizationError,
    BadRequestError,
    ClientClosedError,
    ConflictError,
    CoordinationError,
    ErrorDetail,
    InternalServerError,
    InvalidRequestError,
    JoseError,
    MissingCredentialsError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ScaChallenge,
    ScaRejectedError,
    ScaRequiredError,
    UnprocessableEntityError,
    WebhookVerificationError,
    WiseError,
)
from ._options import RequestOptions
from ._rate_limit import InProcessRateLimiter, RateLimiter
from ._response import WiseResponse
from ._retry import RetryPolicy
from ._sca import (
    PartnerScaSolver,
    PrivateKeyScaSigner,
    RaiseScaRequired,
    ScaContext,
    ScaHandler,
    ScaSolverError,
)
from ._token_store import MemoryTokenStore, TokenCipher, TokenKey, TokenStore, TokenStoreError
from ._tokens import (
    ClientCredentials,
    OAuthTokens,
    PersonalToken,
    TokenProvider,
    TokensNotFoundError,
    UserTokens,
)
from ._version import __version__

__all__ = [
    "PRODUCTION",
    "SANDBOX",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "AuthorizationError",
    "BadRequestError",
    "ClientClosedError",
    "ClientCredentials",
    "ConflictError",
    "CoordinationError",
    "Environment",
    "ErrorDetail",
    "InProcessRateLimiter",
    "InternalServerError",
    "InvalidRequestError",
    "JoseError",
    "MemoryTokenStore",
    "MissingCredentialsError",
    "NotFoundError",
    "OAuthTokens",
    "PaginationError",
    "PartnerScaSolver",
    "PermissionDeniedError",
    "PersonalToken",
    "PrivateKeyScaSigner",
    "RaiseScaRequired",
    "RateLimitError",
    "RateLimiter",
    "RequestOptions",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ScaChallenge",
    "ScaContext",
    "ScaHandler",
    "ScaRejectedError",
    "ScaRequiredError",
    "ScaSolverError",
    "TokenCipher",
    "TokenKey",
    "TokenProvider",
    "TokenStore",
    "TokenStoreError",
    "TokensNotFoundError",
    "UnprocessableEntityError",
    "UserTokens",
    "WebhookVerificationError",
    "WiseClient",
    "WiseError",
    "WiseResponse",
    "__version__",
]
