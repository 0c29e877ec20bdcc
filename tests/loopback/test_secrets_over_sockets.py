"""DEBUG logging on for every logger (wise_async, httpx, httpcore) while the refresh, SCA, card-details and
code-exchange flows run over a real socket; then every captured line, error string, repr and default
traceback is searched for every secret those flows carried."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from wise_api.models import TransferFundBody

from wise_async import PrivateKeyScaSigner, ScaRequiredError, WiseClient, WiseError
from wise_async.testing import FakeJose, FakeWise

from .conftest import CLIENT_ID, CLIENT_SECRET, NO_WAIT, user_client
from .servers import FaultProxy, answer
from .test_auth_over_sockets import _new_transfer

PAN = "4532015112830366"
CVV = "907"
CARD_PIN = "7351"
AUTH_CODE = "auth-code-4f1b9c2e77"
URL_PASSWORD = "gateway-pa55w0rd"


def _texts_of(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    for name in ("request", "response"):
        part = getattr(error, name, None)
        if part is not None:
            texts += [repr(part), repr(part.headers), str(part.url) if name == "request" else ""]
    return texts


async def test_no_secret_in_any_log_line_error_or_repr_over_a_real_socket(
    fake: FakeWise,
    proxy: FaultProxy,
    rsa_key: rsa.RSAPrivateKey,
    caplog: pytest.LogCaptureFixture,
    http_backend: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "aiohttp", "wise_async"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    fake.register_sca_public_key(
        rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    jose = FakeJose.attach(
        fake,
        encryption_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        signing_key=ec.generate_private_key(ec.SECP521R1()),
        card_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )
    card = jose.add_card(pan=PAN, cvv=CVV, pin=CARD_PIN)
    fake.add_authorization_code(AUTH_CODE, redirect_uri="https://app.example/cb", client_id=CLIENT_ID)
    texts: list[str] = []
    secrets: list[str] = [CLIENT_SECRET, PAN, CVV, CARD_PIN, AUTH_CODE, URL_PASSWORD]

    base = proxy.url.replace("http://", f"http://user:{URL_PASSWORD}@")
    async with user_client(fake, proxy, base_url=base, sca_handler=PrivateKeyScaSigner(rsa_key)) as wise:
        tokens = wise.user_tokens
        assert tokens is not None and tokens.refresh_token is not None
        secrets += [tokens.access_token, tokens.refresh_token]
        # 1. refresh after the server expired the token
        fake.revoke_token(tokens.access_token)
        await wise.profiles.list()
        renewed = wise.user_tokens
        assert renewed is not None and renewed.refresh_token is not None
        secrets += [renewed.access_token, renewed.refresh_token]
        # 2. SCA cleared by signing (OTT and X-Signature on the wire)
        transfer_id = await _new_transfer(wise, fake)
        await wise.transfers.fund(
            fake.personal_profile_id, transfer_id, body=TransferFundBody(type_="BALANCE")
        )
        secrets += [fake.last_ott or "", *_signatures(fake)]
        # 3. card details over JOSE
        details = await wise.card_secrets.get_details(card.token)
        assert details.reveal_pan() == PAN
        texts += [repr(details), str(details)]
        # 4. a refresh Wise refuses, echoing the refresh token in its description
        current = wise.user_tokens
        assert current is not None and current.refresh_token is not None
        proxy.add(
            answer(
                400,
                f'{{"error":"invalid_grant","error_description":"Invalid refresh token: '
                f'{current.refresh_token}"}}'.encode(),
            ),
            path_prefix="/oauth/token",
        )
        fake.revoke_token(current.access_token)
        with pytest.raises(WiseError) as refused:
            await wise.profiles.list()
        texts += _texts_of(refused.value)
    # 5. the default SCA handler: the OTT is in the error object, never in its text
    async with WiseClient(personal_token=fake.add_personal_token(), base_url=proxy.url) as plain:
        transfer_id = await _new_transfer(plain, fake)
        with pytest.raises(ScaRequiredError) as challenged:
            await plain.transfers.fund(
                fake.personal_profile_id, transfer_id, body=TransferFundBody(type_="BALANCE")
            )
        secrets.append(challenged.value.one_time_token)
        texts += _texts_of(challenged.value)
    # 6. a code exchange Wise refuses, echoing the code
    proxy.add(
        answer(400, f'{{"error":"invalid_grant","error_description":"code {AUTH_CODE} expired"}}'.encode()),
        path_prefix="/oauth/token",
    )
    async with WiseClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=proxy.url, retry_policy=NO_WAIT
    ) as app:
        with pytest.raises(WiseError) as exchange_refused:
            await app.exchange_authorization_code(AUTH_CODE, "https://app.example/cb")
        texts += [*_texts_of(exchange_refused.value), repr(app)]

    # 7. a connection error to a URL with a password: the error shows a redacted request
    async with WiseClient(
        personal_token=secrets[-1], base_url=f"http://user:{URL_PASSWORD}@127.0.0.1:9", max_retries=0
    ) as unreachable:
        with pytest.raises(WiseError) as refused_connection:
            await unreachable.profiles.list()
        texts += _texts_of(refused_connection.value)

    pool_lines = [r for r in caplog.records if r.name.startswith(http_backend)]
    if http_backend == "httpcore":  # aiohttp's client logs nothing on these paths
        assert pool_lines, "httpcore DEBUG lines were captured"
    assert any(r.name == "httpx" for r in caplog.records), "httpx request lines were captured"
    texts.append(caplog.text)
    secrets = [s for s in secrets if s]
    leaks = leaks_of(secrets, texts)
    print(
        f"\nDEBUG capture: {len(caplog.records)} log records, {len(texts)} texts, {len(secrets)} secrets, "
        f"{len(leaks)} leaks"
    )
    assert not leaks, leaks[:5]


def leaks_of(secrets: list[str], texts: list[str]) -> list[tuple[str, str]]:
    """Each secret found whole in a text (not as part of a longer token), with the text around it."""
    return [
        (secret, text[max(0, m.start() - 60) : m.end() + 20])
        for text in texts
        for secret in secrets
        for m in [re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", text)]
        if m is not None
    ]


def _signatures(fake: FakeWise) -> list[Any]:
    return [c.headers["x-signature"] for c in fake.calls("transferFund") if "x-signature" in c.headers]
