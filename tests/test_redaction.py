from __future__ import annotations

import logging
import sys

import httpx
import pytest

from wise_async._redaction import (
    LOGGER_NAME,
    RedactingFilter,
    get_logger,
    redact_headers,
    redact_text,
    redact_url,
    single_line,
)

# --------------------------------------------------------------------------------------------------
# redact_headers


def test_redact_headers_masks_every_credential_header_and_keeps_the_rest() -> None:
    headers = {
        "Authorization": "Bearer eyJhbGciOi.secret.token",
        "X-Signature": "c2lnbmF0dXJl",
        "x-2fa-approval": "5b4a1f2e-ott",
        "One-Time-Token": "ott-value-1",
        "x-tw-twcard-card-token": "card-token-xyz",
        "Cookie": "session=abc",
        "Set-Cookie": "session=abc; HttpOnly",
        "x-2fa-approval-result": "REJECTED",
        "Content-Type": "application/json",
        "X-Trace-Id": "trace-1",
    }
    assert redact_headers(headers) == {
        "Authorization": "Bearer ***",
        "X-Signature": "***",
        "x-2fa-approval": "***",
        "One-Time-Token": "***",
        "x-tw-twcard-card-token": "***",
        "Cookie": "***",
        "Set-Cookie": "***",
        "x-2fa-approval-result": "REJECTED",
        "Content-Type": "application/json",
        "X-Trace-Id": "trace-1",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Bearer abc.def", "Bearer ***"),
        ("bearer abc.def", "Bearer ***"),
        ("Basic Y2xpZW50OnNlY3JldA==", "Basic ***"),
        ("Digest username=x", "***"),
        ("rawtoken", "***"),
    ],
)
def test_redact_headers_authorization_keeps_only_the_scheme(value: str, expected: str) -> None:
    assert redact_headers({"authorization": value}) == {"authorization": expected}


def test_redact_headers_accepts_httpx_headers_case_insensitively() -> None:
    headers = httpx.Headers({"AUTHORIZATION": "Bearer tk-123", "X-SIGNATURE": "c2ln", "Accept": "*/*"})
    assert redact_headers(headers) == {"authorization": "Bearer ***", "x-signature": "***", "accept": "*/*"}


# --------------------------------------------------------------------------------------------------
# redact_text


@pytest.mark.parametrize(
    "key",
    [
        "pin",
        "cvv",
        "cvc",
        "pan",
        "cardNumber",
        "securityCode",
        "password",
        "access_token",
        "refresh_token",
        "client_secret",
        "registration_code",
        "code",
        "otpCode",
        "faceMap",
        "deviceFingerprint",
        "encryptedPayload",
        "keyMaterial",
    ],
)
def test_redact_text_masks_json_string_values_of_sensitive_keys(key: str) -> None:
    text = f'{{"{key}": "s3cr3tVALUE", "currency": "EUR"}}'
    assert redact_text(text) == f'{{"{key}": "***", "currency": "EUR"}}'


def test_redact_text_masks_numeric_values_and_is_case_insensitive_on_keys() -> None:
    assert redact_text('{"PIN": 1234, "amount": 10.5}') == '{"PIN": "***", "amount": 10.5}'


def test_redact_text_handles_escaped_quotes_inside_values() -> None:
    assert redact_text(r'{"password": "a\"b\\c", "n": 1}') == '{"password": "***", "n": 1}'


def test_redact_text_masks_python_repr_dicts() -> None:
    assert redact_text("{'cvv': '123', 'name': 'x'}") == "{'cvv': '***', 'name': 'x'}"


def test_redact_text_masks_json_embedded_as_a_string() -> None:
    # kycReviewRequirementSubmit sends submissionData as a JSON *string*.
    text = r'{"submissionData": "{\"pin\": \"1234\", \"ok\": \"yes\"}"}'
    redacted = redact_text(text)
    assert "1234" not in redacted
    assert r"\"ok\": \"yes\"" in redacted


def test_redact_text_masks_form_and_query_encoded_secrets() -> None:
    body = "grant_type=refresh_token&refresh_token=rt-123&client_secret=cs-9&client_id=app"
    assert redact_text(body) == "grant_type=refresh_token&refresh_token=***&client_secret=***&client_id=app"


def test_redact_text_does_not_touch_keys_that_merely_contain_a_sensitive_word() -> None:
    text = '{"postcode": "E1 6AN", "spin": "x", "company": "Acme"}'
    assert redact_text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer eyJ.abc-def_ghi~", "Authorization: Bearer ***"),
        ("sent Basic Y2xpZW50OnNlY3JldA== to /oauth/token", "sent Basic *** to /oauth/token"),
    ],
)
def test_redact_text_masks_bearer_and_basic_credentials(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111111111111111 declined", "card ************1111 declined"),
        ("amex 378282246310005", "amex ***********0005"),
        ("grouped 4111 1111 1111 1234.", "grouped **** **** **** 1234."),
        ("dashed 5555-5555-5555-4444", "dashed ****-****-****-4444"),
        ("19 digits 6011000990139424123", "19 digits ***************4123"),
        ('{"x": "4111111111111111"}', '{"x": "************1111"}'),
        ("card_4111111111111111", "card_************1111"),
    ],
)
def test_redact_text_masks_card_numbers_keeping_last_four(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "transfer 123456789012 created",  # 12 digits: an id, not a PAN
        "twenty digits 12345678901234567890",  # longer than any PAN
        "amount 0.30000000000000004",  # float noise
        "uuid 0f8fad5b-d9cb-469f-a165-70867728950e",
        "hex id a1234567890123456b",
    ],
)
def test_redact_text_leaves_non_card_numbers_alone(text: str) -> None:
    assert redact_text(text) == text


def test_redact_text_masks_private_key_pem_blocks() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nq1w2e3r4\n-----END RSA PRIVATE KEY-----"
    redacted = redact_text(f"loaded key {pem} ok")
    assert "MIIEowIBAAKCAQEA" not in redacted and "q1w2e3r4" not in redacted
    assert redacted.startswith("loaded key -----BEGIN PRIVATE KEY-----***")
    assert redacted.endswith(" ok")


def test_redact_text_masks_truncated_private_key_and_json_escaped_pem() -> None:
    assert "MIIEvQ" not in redact_text("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq")
    escaped = r'{"key": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n"}'
    assert "MHcCAQEE" not in redact_text(escaped)


def test_redact_text_leaves_public_keys_and_plain_text_alone() -> None:
    text = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY----- and a quote of 100 GBP"
    assert redact_text(text) == text
    assert redact_text("") == ""


# --------------------------------------------------------------------------------------------------
# redact_url


def test_redact_url_masks_secret_query_values_and_keeps_path() -> None:
    url = "https://api.wise.com/v1/profiles/42/cards?code=auth-code&size=10&access_token=at&cardToken=ct"
    assert (
        redact_url(url)
        == "https://api.wise.com/v1/profiles/42/cards?code=***&size=10&access_token=***&cardToken=***"
    )


def test_redact_url_masks_userinfo_and_is_identity_without_secrets() -> None:
    assert redact_url("https://user:pw@api.wise.com/v1/x") == "https://***@api.wise.com/v1/x"
    plain = "https://api.wise.com/v2/accounts?size=20&seekPosition=5"
    assert redact_url(plain) == plain


# --------------------------------------------------------------------------------------------------
# logging


def test_wise_async_logger_has_exactly_one_redacting_filter() -> None:
    logger = logging.getLogger(LOGGER_NAME)
    assert get_logger() is logger
    get_logger()
    get_logger()
    assert sum(isinstance(f, RedactingFilter) for f in logger.filters) == 1


def test_logged_records_are_redacted_including_args(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger=LOGGER_NAME):
        get_logger().debug(
            "POST %s body=%s auth=%s", "/oauth/token", '{"refresh_token": "rt-1"}', "Bearer tk"
        )
    (record,) = caplog.records
    assert record.getMessage() == 'POST /oauth/token body={"refresh_token": "***"} auth=Bearer ***'
    assert "rt-1" not in caplog.text and "Bearer tk" not in caplog.text


def test_child_loggers_from_get_logger_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    child = get_logger("transport")
    assert child.name == "wise_async.transport"
    assert any(isinstance(f, RedactingFilter) for f in child.filters)
    with caplog.at_level(logging.DEBUG, logger=LOGGER_NAME):
        child.info("card %s", "4111111111111111")
    assert "4111111111111111" not in caplog.text
    assert "************1111" in caplog.text


def test_filter_redacts_exception_tracebacks() -> None:
    try:
        raise ValueError('bad {"pin": "9876"}')
    except ValueError:
        record = logging.LogRecord("wise_async", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    assert RedactingFilter().filter(record) is True
    formatted = logging.Formatter().format(record)
    assert "9876" not in formatted
    assert '"pin": "***"' in formatted


# --------------------------------------------------------------------------------------------------
# hostile text: unterminated values, megabytes, line breaks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"pin": "1234', '{"pin": "***"'),  # a truncated body: the value is masked to its end
        ("{'cvv': '907", "{'cvv': '***'"),
        ('{\\"pin\\": \\"1234', '{\\"pin\\": \\"***\\"'),
        ("(b'authorization', b'Bearer abc", "(b'authorization', b'***'"),
        (
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQ",
            "-----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY-----",
        ),
    ],
)
def test_redact_text_masks_unterminated_values_to_the_end(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_redact_text_masks_every_occurrence_in_a_megabyte_of_repeats() -> None:
    for unit, secret in [
        ('"pin": "1234", ', "1234"),
        ("code=abc123&", "abc123"),
        ("https://user:pa55@host/ ", "pa55"),
        ("Bearer tok3n ", "tok3n"),
        ("-----BEGIN PRIVATE KEY-----k3y-----END PRIVATE KEY----- ", "k3y"),
        ("4532015112830366 ", "453201511283"),
    ]:
        text = unit * (1024 * 1024 // len(unit))
        masked = redact_text(text)
        assert secret not in masked, unit
        assert masked.count("***") + masked.count("*" * 12) >= text.count(unit) - 1


def test_redact_text_keeps_userinfo_masking_after_any_scheme() -> None:
    assert redact_text("x1http://u:p@h/") == "x1http://***@h/"
    assert redact_text("a" * 5000 + "://user:secret@host") == "a" * 5000 + "://***@host"


def test_single_line_escapes_line_breaks_and_controls() -> None:
    assert single_line("a\r\nb\tc\x1b[31m\u2028d\x85") == "a\\r\\nb\\tc\\x1b[31m\\u2028d\\x85"
    assert single_line("café, ok") == "café, ok"


def test_logged_records_are_one_line(caplog: pytest.LogCaptureFixture) -> None:
    logger = get_logger("hostile")
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        logger.info("trace id %s", "abc\r\n2026-12-06 INFO wise_async: forged")
    (record,) = caplog.records
    assert record.getMessage() == "trace id abc\\r\\n2026-12-06 INFO wise_async: forged"
