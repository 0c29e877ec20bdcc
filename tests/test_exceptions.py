from __future__ import annotations

import json
import pickle
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from wise_async._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorDetail,
    InternalServerError,
    JoseError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    ScaChallenge,
    ScaRejectedError,
    ScaRequiredError,
    UnprocessableEntityError,
    WebhookVerificationError,
    WiseError,
    make_status_error,
    parse_error_details,
)

API = "https://api.wise.com"
BEARER = "eyJhbGciOiJIUzI1NiJ9.user-access-token"
OTT = "6a1f0b52-8c1e-4a4f-9d7e-0ott0ott0ott"
SIGNATURE = "Zm9vYmFyc2lnbmF0dXJlYmFzZTY0"


def _response(
    status: int,
    body: bytes | str | dict[str, Any] | list[Any] = b"",
    *,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    url: str = f"{API}/v1/transfers/1",
    request_headers: dict[str, str] | None = None,
) -> httpx.Response:
    request = httpx.Request(
        method, url, headers={"Authorization": f"Bearer {BEARER}", **(request_headers or {})}
    )
    response_headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        content = json.dumps(body).encode()
        response_headers.setdefault("content-type", "application/json")
    else:
        content = body.encode() if isinstance(body, str) else body
    return httpx.Response(status, headers=response_headers, content=content, request=request)


# --------------------------------------------------------------------------------------------------
# parse_error_details: every body shape Wise uses


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        pytest.param(
            b'{"error": "invalid_token", "error_description": "Invalid token: expired"}',
            "application/json",
            [ErrorDetail(code="invalid_token", message="Invalid token: expired")],
            id="oauth",
        ),
        pytest.param(
            json.dumps(
                {
                    "errors": [
                        {
                            "code": "NOT_VALID",
                            "message": "Please specify amount",
                            "path": "sourceAmount",
                            "arguments": ["sourceAmount", 0],
                        },
                        {"code": "error.route", "message": "Unsupported route", "arguments": {"ccy": "XYZ"}},
                    ]
                }
            ).encode(),
            "application/json",
            [
                ErrorDetail(
                    code="NOT_VALID",
                    message="Please specify amount",
                    path="sourceAmount",
                    arguments=["sourceAmount", "0"],
                ),
                ErrorDetail(code="error.route", message="Unsupported route", arguments={"ccy": "XYZ"}),
            ],
            id="errors-list",
        ),
        pytest.param(
            json.dumps(
                {
                    "type": "https://wise.com/problems/validation",
                    "title": "Validation failed",
                    "status": 422,
                    "detail": "Request body is invalid",
                    "errors": [{"code": "too.long", "detail": "Name too long", "ref": "/name"}],
                }
            ).encode(),
            "application/problem+json",
            [
                ErrorDetail(message="Request body is invalid"),
                ErrorDetail(code="too.long", message="Name too long", path="/name"),
            ],
            id="problem-details",
        ),
        pytest.param(
            b'{"type": "about:blank", "title": "Not Found", "status": 404}',
            "application/problem+json",
            [ErrorDetail(message="Not Found")],
            id="problem-details-title-only",
        ),
        pytest.param(
            json.dumps(
                {
                    "timestamp": "2024-01-01T00:00:00.000+00:00",
                    "status": 403,
                    "error": "Forbidden",
                    "message": "Access Denied",
                    "path": "/v3/profiles/1/transfers/2/payments",
                }
            ).encode(),
            "application/json",
            [
                ErrorDetail(
                    code="Forbidden", message="Access Denied", path="/v3/profiles/1/transfers/2/payments"
                )
            ],
            id="spring",
        ),
        pytest.param(
            b'{"timestamp": "x", "status": 500, "error": "Internal Server Error", "message": "",'
            b' "path": "/x"}',
            "application/json",
            [ErrorDetail(code="Internal Server Error", path="/x")],
            id="spring-empty-message",
        ),
        pytest.param(
            b'{"code": "BALANCE_NOT_FOUND", "message": "No balance"}',
            "application/json",
            [ErrorDetail(code="BALANCE_NOT_FOUND", message="No balance")],
            id="code-message",
        ),
        pytest.param(
            b'{"message": "Something went wrong", "request_id": "r-1"}',
            "application/json",
            [ErrorDetail(message="Something went wrong")],
            id="message-request-id",
        ),
        pytest.param(
            b'[{"code": "a", "message": "first"}, "second", 3, null, {"irrelevant": true}]',
            "application/json",
            [ErrorDetail(code="a", message="first"), ErrorDetail(message="second"), ErrorDetail(message="3")],
            id="json-list",
        ),
        pytest.param(
            b'{"error": {"code": "nested", "message": "Nested error"}}',
            "application/json",
            [ErrorDetail(code="nested", message="Nested error")],
            id="nested-error-object",
        ),
        pytest.param(b"", "application/json", [], id="empty"),
        pytest.param(b"   \n", None, [], id="whitespace"),
        pytest.param(b"{}", "application/json", [], id="empty-object"),
        pytest.param(b"null", "application/json", [], id="json-null"),
        pytest.param(
            b'"just a string"', "application/json", [ErrorDetail(message="just a string")], id="json-str"
        ),
        pytest.param(
            b"<html><head><title>502 Bad\n  Gateway</title></head><body><h1>nginx</h1></body></html>",
            "text/html",
            [ErrorDetail(message="502 Bad Gateway")],
            id="html-title",
        ),
        pytest.param(
            b"<html><body><h1>Service &amp; Unavailable</h1></body></html>",
            None,
            [ErrorDetail(message="Service & Unavailable")],
            id="html-h1-unlabelled",
        ),
        pytest.param(b"<html><body>oops</body></html>", "text/html", [], id="html-no-title"),
        pytest.param(
            b"upstream connect error",
            "text/plain",
            [ErrorDetail(message="upstream connect error")],
            id="text",
        ),
        pytest.param(
            b'{"error": "invalid_tok',
            "application/json",
            [ErrorDetail(message='{"error": "invalid_tok')],
            id="truncated-json",
        ),
        pytest.param(
            b"\xff\xfe\x00garbage",
            "application/json",
            [ErrorDetail(message="\ufffd\ufffd\x00garbage")],
            id="invalid-utf8",
        ),
    ],
)
def test_parse_error_details(body: bytes, content_type: str | None, expected: list[ErrorDetail]) -> None:
    assert parse_error_details(body, content_type) == expected


def test_parse_error_details_json_without_json_content_type() -> None:
    assert parse_error_details(b'{"code": "x", "message": "y"}', "text/plain") == [
        ErrorDetail(code="x", message="y")
    ]


def test_parse_error_details_never_raises_on_pathological_input() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert parse_error_details(deep, "application/json") == [ErrorDetail(message=("[" * 500))]
    assert parse_error_details(b'{"errors": "not-a-list", "message": {"x": 1}}', "application/json") == []
    long_text = b"x" * 10_000
    (detail,) = parse_error_details(long_text, "text/plain")
    assert detail.message is not None and len(detail.message) == 500


def test_error_detail_is_frozen() -> None:
    detail = ErrorDetail(code="c")
    with pytest.raises(AttributeError):
        detail.code = "d"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------
# make_status_error: status → class


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (599, InternalServerError),
        (402, APIStatusError),
        (405, APIStatusError),
        (410, APIStatusError),
        (418, APIStatusError),
    ],
)
def test_make_status_error_maps_status_to_class(status: int, cls: type[APIStatusError]) -> None:
    error = make_status_error(_response(status))
    assert type(error) is cls
    assert isinstance(error, APIStatusError) and isinstance(error, APIError) and isinstance(error, WiseError)
    assert error.status_code == status


def test_plain_403_is_permission_denied_not_sca() -> None:
    error = make_status_error(_response(403, {"error": "Forbidden", "message": "Card is not active"}))
    assert type(error) is PermissionDeniedError
    assert error.message == "Card is not active"


def test_status_error_carries_request_response_and_parsed_body() -> None:
    body = {"errors": [{"code": "NOT_VALID", "message": "Bad amount", "path": "amount"}]}
    response = _response(
        422,
        body,
        method="POST",
        url=f"{API}/v3/profiles/1/transfers?access_token=leak&profile=1",
        headers={"x-trace-id": "trace-abc", "X-External-Correlation-Id": "corr-resp"},
        request_headers={"X-External-Correlation-Id": "corr-req"},
    )
    error = make_status_error(response)
    assert isinstance(error, UnprocessableEntityError)
    # what the error shows are redacted copies; the request as sent is kept for replays only
    assert error.response is not response and error.response.status_code == 422
    assert error.response.content == response.content
    assert error.sent_request is response.request
    assert error.request is not None and error.request.method == "POST"
    assert "leak" not in str(error.request.url) and "profile=1" in str(error.request.url)
    assert error.headers["x-trace-id"] == "trace-abc"
    assert error.body == json.dumps(body).encode()
    assert error.errors == [ErrorDetail(code="NOT_VALID", message="Bad amount", path="amount")]
    assert error.trace_id == "trace-abc"
    assert error.correlation_id == "corr-resp"
    assert error.method == "POST"
    assert error.url == f"{API}/v3/profiles/1/transfers?access_token=***&profile=1"
    assert error.message == "Bad amount"


def test_correlation_id_falls_back_to_the_request_header() -> None:
    error = make_status_error(_response(404, request_headers={"X-External-Correlation-Id": "corr-req"}))
    assert error.correlation_id == "corr-req"
    assert make_status_error(_response(404)).correlation_id is None


def test_explicit_message_wins_and_default_falls_back_to_code_then_reason() -> None:
    assert make_status_error(_response(404, {"message": "m"}), message="custom").message == "custom"
    assert make_status_error(_response(401, {"error": "invalid_token"})).message == "invalid_token"
    assert make_status_error(_response(404)).message == "Not Found"
    assert make_status_error(_response(499)).message == "HTTP 499"


def test_unread_streaming_response_is_handled() -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b'{"error": "never read"}'

    request = httpx.Request("GET", f"{API}/v1/profiles")
    response = httpx.Response(500, content=stream(), request=request, headers={"x-trace-id": "t-1"})
    error = make_status_error(response)
    assert isinstance(error, InternalServerError)
    assert error.body == b""
    assert error.errors == []
    assert str(error) == f"[trace_id=t-1] 500 Internal Server Error (GET {API}/v1/profiles)"


async def test_read_streaming_response_is_parsed() -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b'{"error": "server_error", '
        yield b'"error_description": "boom"}'

    request = httpx.Request("GET", f"{API}/v1/profiles")
    response = httpx.Response(500, content=stream(), request=request)
    await response.aread()
    assert make_status_error(response).errors == [ErrorDetail(code="server_error", message="boom")]


def test_response_without_request_is_handled() -> None:
    error = make_status_error(httpx.Response(404, json={"message": "gone"}))
    assert isinstance(error, NotFoundError)
    assert error.request is None and error.method is None and error.url is None
    assert str(error) == "404 Not Found: gone"


# --------------------------------------------------------------------------------------------------
# str() / repr(): trace id first, never a secret


def test_str_leads_with_trace_id_and_names_status_method_url_and_first_message() -> None:
    response = _response(
        400,
        {"errors": [{"code": "a", "message": "First problem"}, {"code": "b", "message": "Second"}]},
        method="POST",
        url=f"{API}/v1/quotes",
        headers={"x-trace-id": "0a1b2c3d"},
    )
    assert str(make_status_error(response)) == (
        f"[trace_id=0a1b2c3d] 400 Bad Request (POST {API}/v1/quotes): First problem (+1 more)"
    )


def test_str_shows_first_error_message_when_an_explicit_message_is_given() -> None:
    response = _response(409, {"message": "Duplicate profile"}, headers={"x-trace-id": "t"})
    text = str(make_status_error(response, message="Could not create profile"))
    assert text.startswith("[trace_id=t] 409 Conflict")
    assert text.endswith("Could not create profile — Duplicate profile")


def test_str_and_repr_never_contain_credentials() -> None:
    echoed = (
        f"denied: Bearer {BEARER} ott={OTT} sig={SIGNATURE} card 4111111111111111 "
        '{"pin": "1234", "cvv": "987"} card-tok-secret-1'
    )
    response = _response(
        400,
        {"errors": [{"code": "x", "message": echoed}]},
        method="POST",
        url=f"{API}/v1/cards?code=oauth-code-1&client_secret=cs-1&size=5",
        headers={"x-trace-id": "trace-1", "Set-Cookie": "session=cookie-secret"},
        request_headers={
            "X-Signature": SIGNATURE,
            "One-Time-Token": OTT,
            "x-tw-twcard-card-token": "card-tok-secret-1",
        },
    )
    error = make_status_error(response)
    for text in (str(error), repr(error), str(error.args)):
        for secret in (BEARER, OTT, SIGNATURE, "4111111111111111", "1234", "987", "card-tok-secret-1",
                       "oauth-code-1", "cs-1", "cookie-secret"):  # fmt: skip
            assert secret not in text, (secret, text)
    assert "trace-1" in str(error)
    assert "************1111" in str(error)
    assert "size=5" in str(error)


def test_repr_is_short_and_informative() -> None:
    error = make_status_error(_response(404, {"message": "No such transfer"}, headers={"x-trace-id": "t9"}))
    assert repr(error) == "NotFoundError(status_code=404, trace_id='t9', message='No such transfer')"


# --------------------------------------------------------------------------------------------------
# RateLimitError


def test_rate_limit_error_reads_retry_after_and_limiter() -> None:
    response = _response(
        429, headers={"Retry-After": "7", "X-Rate-Limited-By": "per-second", "x-trace-id": "r"}
    )
    error = make_status_error(response)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0
    assert error.rate_limited_by == "per-second"
    assert str(error) == (
        f"[trace_id=r] 429 Too Many Requests (GET {API}/v1/transfers/1): Rate limited by Wise; retry after 7s"
    )
    assert "retry_after=7.0" in repr(error)


def test_rate_limit_error_without_headers() -> None:
    error = make_status_error(_response(429, {"message": "Slow down"}))
    assert isinstance(error, RateLimitError)
    assert error.retry_after is None and error.rate_limited_by is None
    assert error.message == "Slow down"


# --------------------------------------------------------------------------------------------------
# SCA


def _sca_response(*, request_headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
    headers = {"x-2fa-approval": OTT, "x-2fa-approval-result": "REJECTED", "x-trace-id": "sca-trace"}
    return _response(
        403,
        kwargs.pop("body", b""),
        headers={**headers, **kwargs.pop("headers", {})},
        method="POST",
        url=f"{API}/v3/profiles/1/transfers/2/payments",
        request_headers={"X-idempotence-uuid": "idem-1", **(request_headers or {})},
    )


def test_403_with_ott_header_is_sca_required() -> None:
    error = make_status_error(_sca_response())
    assert type(error) is ScaRequiredError
    assert isinstance(error, PermissionDeniedError)
    assert error.one_time_token == OTT
    assert error.challenges == []
    assert error.action_type is None
    assert error.idempotency_key == "idem-1"
    assert error.trace_id == "sca-trace"
    assert error.message == "Strong customer authentication required"


def test_sca_required_matches_on_header_even_with_spring_body() -> None:
    body = {"timestamp": "t", "status": 403, "error": "Forbidden", "message": "Access Denied", "path": "/x"}
    error = make_status_error(
        _sca_response(body=json.dumps(body), headers={"content-type": "application/json"})
    )
    assert type(error) is ScaRequiredError
    assert error.errors == [ErrorDetail(code="Forbidden", message="Access Denied", path="/x")]
    assert str(error).endswith("Strong customer authentication required — Access Denied")


def test_sca_required_hides_the_one_time_token_in_str_and_repr() -> None:
    body = {"message": f"Approve token {OTT} first"}
    error = make_status_error(
        _sca_response(body=json.dumps(body), headers={"content-type": "application/json"})
    )
    assert isinstance(error, ScaRequiredError)
    assert error.one_time_token == OTT
    assert OTT not in str(error)
    assert OTT not in repr(error)
    assert "one_time_token='***'" in repr(error)
    assert "idempotency_key='idem-1'" in repr(error)


def test_sca_required_built_with_challenges_from_ott_status() -> None:
    challenge = ScaChallenge(type="PIN", required=True, passed=False)
    error = ScaRequiredError(
        response=_sca_response(),
        challenges=[challenge],
        action_type="BALANCE__STATEMENT",
        idempotency_key="k",
    )
    assert error.challenges == [challenge]
    assert error.idempotency_key == "k"
    assert error.message == "Strong customer authentication required for BALANCE__STATEMENT"


def test_retried_approval_refused_again_is_sca_rejected() -> None:
    new_ott = "new-ott-value-0000"
    response = _sca_response(
        headers={"x-2fa-approval": new_ott},
        request_headers={"x-2fa-approval": OTT, "X-Signature": SIGNATURE},
    )
    error = make_status_error(response)
    assert type(error) is ScaRejectedError
    assert isinstance(error, ScaRequiredError) and isinstance(error, PermissionDeniedError)
    assert error.one_time_token == new_ott
    assert error.reason == "x-2fa-approval-result: REJECTED"
    for text in (str(error), repr(error)):
        assert OTT not in text and new_ott not in text and SIGNATURE not in text
    assert "reason='x-2fa-approval-result: REJECTED'" in repr(error)


def test_sca_rejected_without_new_ott_uses_body_reason_and_sent_token() -> None:
    request = httpx.Request("PUT", f"{API}/v1/x", headers={"x-2fa-approval": OTT})
    response = httpx.Response(403, json={"message": "Signature verification failed"}, request=request)
    error = make_status_error(response)
    assert isinstance(error, ScaRejectedError)
    assert error.one_time_token == OTT
    assert error.reason == "Signature verification failed"
    assert error.message == "Strong customer authentication was rejected: Signature verification failed"


def test_sca_challenge_from_wise() -> None:
    data = {
        "primaryChallenge": {"type": "PIN", "viewData": {"attributes": {"length": 4}}},
        "alternatives": [{"type": "FACE_MAP"}, {"primaryChallenge": {"type": "SMS"}}, "VOICE", {"nope": 1}],
        "required": True,
        "passed": False,
    }
    assert ScaChallenge.from_wise(data) == ScaChallenge(
        type="PIN",
        required=True,
        passed=False,
        view_data={"attributes": {"length": 4}},
        alternatives=["FACE_MAP", "SMS", "VOICE"],
    )


def test_sca_challenge_from_wise_is_lenient() -> None:
    assert ScaChallenge.from_wise({}) == ScaChallenge(type="UNKNOWN")
    assert ScaChallenge.from_wise({"primaryChallenge": "PIN", "required": "yes", "alternatives": None}) == (
        ScaChallenge(type="UNKNOWN", required=False)
    )


# --------------------------------------------------------------------------------------------------
# Connection errors and the rest of the tree


def test_connection_and_timeout_errors() -> None:
    request = httpx.Request("GET", f"{API}/v1/me?access_token=zzz")
    timeout = APITimeoutError(request=request)
    assert isinstance(timeout, APIConnectionError) and isinstance(timeout, APIError)
    assert timeout.sent_request is request  # kept for replays; what the error shows is a redacted copy
    assert timeout.request is not None and "zzz" not in repr(timeout.request) + str(timeout.request.url)
    assert timeout.message == "Request timed out."
    assert str(timeout) == f"Request timed out. (GET {API}/v1/me?access_token=***)"
    assert str(APIConnectionError()) == "Connection error."


@pytest.mark.parametrize("cls", [PaginationError, JoseError, WebhookVerificationError])
def test_non_api_errors_are_wise_errors(cls: type[WiseError]) -> None:
    error = cls("why")
    assert isinstance(error, WiseError) and not isinstance(error, APIError)
    assert str(error) == "why"


# --------------------------------------------------------------------------------------------------
# Pickling


@pytest.mark.parametrize(
    "error",
    [
        APIConnectionError("reset", request=httpx.Request("GET", f"{API}/v1/me")),
        APITimeoutError(),
        PaginationError("repeated cursor"),
    ],
    ids=["connection", "timeout", "pagination"],
)
def test_simple_errors_pickle(error: WiseError) -> None:
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)


def test_status_errors_pickle_with_their_attributes() -> None:
    rate = make_status_error(_response(429, headers={"Retry-After": "3", "x-trace-id": "tt"}))
    clone = pickle.loads(pickle.dumps(rate))
    assert isinstance(clone, RateLimitError)
    assert (clone.retry_after, clone.trace_id, clone.status_code) == (3.0, "tt", 429)
    assert str(clone) == str(rate)

    sca = ScaRequiredError(response=_sca_response(), challenges=[ScaChallenge(type="SMS", required=True)])
    sca_clone = pickle.loads(pickle.dumps(sca))
    assert isinstance(sca_clone, ScaRequiredError)
    assert sca_clone.one_time_token == OTT
    assert sca_clone.challenges == [ScaChallenge(type="SMS", required=True)]
    assert repr(sca_clone) == repr(sca)


def test_str_does_not_repeat_a_scrubbed_first_message() -> None:
    response = _response(400, {"message": f"token {BEARER} rejected"}, headers={"x-trace-id": "t"})
    assert (
        str(make_status_error(response))
        == f"[trace_id=t] 400 Bad Request (GET {API}/v1/transfers/1): token *** rejected"
    )


def test_explicitly_passed_one_time_token_is_scrubbed_everywhere() -> None:
    token = "explicit-ott-42"
    response = _response(403, {"message": f"approve {token}"})
    error = ScaRejectedError(response=response, one_time_token=token)
    assert error.one_time_token == token
    for text in (str(error), repr(error), error.message, error.reason):
        assert token not in text, text


@pytest.mark.parametrize("answer", ["403 from Wise", "connection refused"])
async def test_the_token_sent_is_masked_wherever_the_request_repeats_it(answer: str) -> None:
    """A credential passed where an argument belongs (here the bearer token as a path argument) is the
    exchange's own secret: masked in the error's URL, its request copy, ``str`` and ``repr``."""
    from wise_async import WiseClient, WiseError
    from wise_async.testing import FakeWise

    fake = FakeWise()
    token = fake.add_personal_token()

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport = fake.transport() if answer == "403 from Wise" else httpx.MockTransport(refused)
    async with WiseClient(personal_token=token, transport=transport, max_retries=0) as wise:
        with pytest.raises(WiseError) as raised:
            await wise.webhooks.application_subscription_list(token)
    error = raised.value
    assert error.request is not None and "/v3/applications/***/" in str(error.request.url)
    shown = [str(error), repr(error), str(error.request.url), str(getattr(error, "url", ""))]
    assert not any(token in text for text in shown), shown
    assert error.sent_request is not None and token in str(error.sent_request.url)  # kept to replay
