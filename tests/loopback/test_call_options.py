"""Per-call options, derived clients, environment configuration, logging, the caller's httpx client,
OAuth connect and mTLS — each shown taking effect on a real loopback connection."""

from __future__ import annotations

import datetime
import ipaddress
import json
import logging
import ssl
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from bundle_paths import path_of
from client.helpers import quote_and_recipient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from wise_async import (
    APIConnectionError,
    AuthenticationError,
    AuthorizationError,
    InProcessRateLimiter,
    InternalServerError,
    MissingCredentialsError,
    ScaRequiredError,
    WiseClient,
)
from wise_async.testing import FakeWise

from .conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    NO_WAIT,
    personal_client,
    user_client,
)
from .servers import FaultProxy, answer

UNAVAILABLE = answer(503, b'{"error":"unavailable"}')


async def test_extra_headers_query_and_body_reach_the_wire_per_call(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    async with personal_client(fake, proxy, default_headers={"X-Team": "payouts"}) as wise:
        await wise.quotes.create(
            fake.personal_profile_id,
            body={"sourceCurrency": "GBP", "targetCurrency": "EUR", "sourceAmount": 100},
            extra_headers={"X-Debug": "1"},
            extra_query={"trace": "yes"},
            extra_body={"preferredPayIn": "BALANCE"},
        )
        await wise.profiles.list()
    quote, profiles = proxy.exchanges[-2], proxy.exchanges[-1]
    assert quote.headers["x-debug"] == "1" and quote.headers["x-team"] == "payouts"
    assert quote.path.endswith("?trace=yes")
    assert json.loads(quote.body)["preferredPayIn"] == "BALANCE"
    assert json.loads(quote.body)["sourceCurrency"] == "GBP"
    assert "x-debug" not in profiles.headers and profiles.headers["x-team"] == "payouts"  # per call only


async def test_max_retries_per_call_and_per_derived_client(fake: FakeWise, proxy: FaultProxy) -> None:
    proxy.add(UNAVAILABLE, method="GET", path_prefix=path_of("profileList"), times=None)
    async with personal_client(fake, proxy) as wise:  # NO_WAIT: 2 retries
        with pytest.raises(InternalServerError):
            await wise.profiles.list(max_retries=0)
        assert proxy.count("GET", path_of("profileList")) == 1
        with pytest.raises(InternalServerError):
            await wise.profiles.list()
        assert proxy.count("GET", path_of("profileList")) == 1 + 3
        patient = wise.with_options(max_retries=1, default_headers={"X-Derived": "yes"})
        with pytest.raises(InternalServerError):
            await patient.profiles.list()
        assert proxy.count("GET", path_of("profileList")) == 1 + 3 + 2
        assert proxy.exchanges[-1].headers["x-derived"] == "yes"
        assert patient.http_client is wise.http_client  # one pool
        await patient.aclose()  # a derived client does not close the shared pool
        assert not wise.http_client.is_closed
    assert wise.http_client.is_closed


async def test_an_explicit_idempotency_key_is_used_for_header_and_body_keys(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    key = uuid.uuid4()
    async with personal_client(fake, proxy) as wise:
        await wise.balances.create(
            fake.personal_profile_id,
            body={"currency": "EUR", "type": "SAVINGS", "name": "Trip"},
            idempotency_key=key,
        )
        quote_id, recipient_id = await quote_and_recipient(wise, fake)
        transfer_key = str(uuid.uuid4())
        await wise.transfers.create(
            body={"targetAccount": recipient_id, "quoteUuid": str(quote_id)}, idempotency_key=transfer_key
        )
    balance_call = next(e for e in proxy.exchanges if e.path.endswith("/balances"))
    assert balance_call.headers["x-idempotence-uuid"] == str(key)
    transfer_call = next(e for e in proxy.exchanges if e.path == path_of("transferCreate"))
    assert json.loads(transfer_call.body)["customerTransactionId"] == transfer_key


async def test_time_queued_in_the_rate_limiter_is_not_part_of_the_budget(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    limiter = InProcessRateLimiter(rate=20, burst=1)
    async with personal_client(fake, proxy, rate_limiter=limiter) as wise:
        results: list[object] = []

        async def call() -> None:
            results.append(await wise.profiles.list(timeout=0.5))

        async with anyio.create_task_group() as group:
            for _ in range(20):  # ~1 s of queueing at 20/s, each call with a 0.5 s budget
                group.start_soon(call)
    assert len(results) == 20


async def test_an_sca_resume_is_a_new_call_and_leaves_the_finished_calls_budget_alone(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    fake.sca_operations.add("profileList")
    limiter = InProcessRateLimiter(rate=10, burst=1)  # the replay queues, as under load
    async with user_client(fake, proxy, timeout=None, rate_limiter=limiter) as wise:
        with pytest.raises(ScaRequiredError) as caught:
            await wise.profiles.list(timeout=5)
        fake.approve_ott(caught.value.one_time_token)
        profiles = await caught.value.resume()
    assert {p.id for p in profiles} == {fake.personal_profile_id, fake.business_profile_id}
    assert [c.status for c in fake.calls("profileList")] == [403, 200]


def test_environment_configuration_and_precedence(
    fake: FakeWise, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = fake.add_personal_token()
    monkeypatch.setenv("WISE_API_TOKEN", token)
    monkeypatch.setenv("WISE_BASE_URL", proxy.url)
    monkeypatch.setenv("WISE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("WISE_CLIENT_SECRET", CLIENT_SECRET)

    async def main() -> None:
        async with WiseClient() as wise:
            assert await wise.profiles.list()
            assert wise.environment.base_url == proxy.url
        async with WiseClient(personal_token="explicit-wins", base_url=proxy.url) as wise:
            with pytest.raises(AuthenticationError):
                await wise.profiles.list()

    anyio.run(main)
    assert proxy.exchanges[0].headers["authorization"] == f"Bearer {token}"
    assert proxy.exchanges[-1].headers["authorization"] == "Bearer explicit-wins"
    monkeypatch.setenv("WISE_ENVIRONMENT", "staging")
    with pytest.raises(ValueError, match="WISE_ENVIRONMENT"):
        WiseClient()


async def test_no_credentials_anywhere_names_the_variables_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WISE_API_TOKEN", "WISE_CLIENT_ID", "WISE_CLIENT_SECRET", "WISE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    async with WiseClient(base_url="http://127.0.0.1:9") as wise:
        with pytest.raises(MissingCredentialsError, match="WISE_API_TOKEN"):
            await wise.profiles.list()


async def test_the_callers_http_client_keeps_its_base_url_and_stays_open(
    fake: FakeWise, proxy: FaultProxy
) -> None:
    own = httpx.AsyncClient(base_url=proxy.url, headers={"X-Gateway": "edge"})
    async with WiseClient(personal_token=fake.add_personal_token(), http_client=own) as wise:
        assert await wise.profiles.list()  # no base_url given to WiseClient: the client's own is kept
    assert proxy.exchanges[-1].headers["x-gateway"] == "edge"
    assert not own.is_closed
    await own.aclose()


async def test_debug_logs_one_line_per_attempt_and_retries_at_info(
    fake: FakeWise, proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="wise_async")
    proxy.add(UNAVAILABLE, method="GET", path_prefix=path_of("profileList"))
    async with personal_client(fake, proxy) as wise:
        await wise.profiles.list()
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("wise_async")]
    attempts = [
        m for level, m in lines if level == logging.DEBUG and m.startswith(f"GET {path_of('profileList')}")
    ]
    assert attempts[0].startswith(f"GET {path_of('profileList')} -> 503") and "attempt 1" in attempts[0]
    assert attempts[1].startswith(f"GET {path_of('profileList')} -> 200") and "attempt 2" in attempts[1]
    assert "trace id " in attempts[1] and "trace id None" not in attempts[1]
    assert any(level == logging.INFO and "HTTP 503" in m and "retry 1" in m for level, m in lines)
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("wise_async").handlers)


async def test_oauth_connect_builds_the_url_and_checks_state(fake: FakeWise, proxy: FaultProxy) -> None:
    sandbox = WiseClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    url = httpx.URL(sandbox.authorization_url("https://app.example/cb", state="s-1"))
    assert (url.host, url.path) == ("sandbox.transferwise.tech", "/oauth/authorize/")
    assert dict(url.params) == {
        "client_id": CLIENT_ID,
        "redirect_uri": "https://app.example/cb",
        "state": "s-1",
    }
    production = WiseClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, environment="production")
    assert production.authorization_url("https://app.example/cb", state="s").startswith(
        "https://wise.com/oauth/"
    )

    fake.add_authorization_code("code-1", redirect_uri="https://app.example/cb", client_id=CLIENT_ID)
    async with WiseClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=proxy.url, retry_policy=NO_WAIT
    ) as wise:
        with pytest.raises(AuthorizationError, match="state"):
            await wise.complete_authorization(
                "https://app.example/cb?code=code-1&state=forged",
                state="s-1",
                redirect_uri="https://app.example/cb",
            )
        with pytest.raises(AuthorizationError, match="access_denied"):
            await wise.complete_authorization(
                "https://app.example/cb?error=access_denied&state=s-1",
                state="s-1",
                redirect_uri="https://app.example/cb",
            )
        assert not any(e.path.startswith("/oauth/token") for e in proxy.exchanges)  # nothing was exchanged
        tokens = await wise.complete_authorization(
            "https://app.example/cb?code=code-1&profileId=3&state=s-1",
            state="s-1",
            redirect_uri="https://app.example/cb",
        )
        assert tokens.refresh_token and wise.user_tokens == tokens
        assert await wise.profiles.list()


# --------------------------------------------------------------------------------------------- mTLS


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer or (name, key)
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        # key identifiers: Python 3.13's default TLS context verifies strictly (VERIFY_X509_STRICT)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    if ca:
        usage = dict.fromkeys(
            ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "encipher_only", "decipher_only"), False
        )  # fmt: skip
        builder = builder.add_extension(
            x509.KeyUsage(key_cert_sign=True, crl_sign=True, **usage), critical=True
        )
    if not ca:
        loopback = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        builder = builder.add_extension(x509.SubjectAlternativeName([loopback]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def pki(tmp_path: Path) -> Iterator[dict[str, Path]]:
    files: dict[str, Path] = {}
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("test CA", ca_key, None, ca=True)
    for role in ("server", "client"):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(f"test {role}", key, (ca.subject, ca_key))
        files[f"{role}_cert"] = tmp_path / f"{role}.pem"
        files[f"{role}_cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files[f"{role}_key"] = tmp_path / f"{role}.key"
        files[f"{role}_key"].write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    files["ca"] = tmp_path / "ca.pem"
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    yield files


async def test_a_client_certificate_is_presented_to_an_mtls_host(
    fake: FakeWise, pki: dict[str, Path]
) -> None:
    import uvicorn

    config = uvicorn.Config(
        fake.asgi_app,
        interface="asgi3",
        lifespan="off",
        log_level="warning",
        ssl_certfile=str(pki["server_cert"]),
        ssl_keyfile=str(pki["server_key"]),
        ssl_ca_certs=str(pki["ca"]),
        ssl_cert_reqs=ssl.CERT_REQUIRED,  # the host refuses clients without a certificate
        port=0,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        await anyio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"https://127.0.0.1:{port}"
    try:
        token = fake.add_personal_token()
        trusting = ssl.create_default_context(cafile=str(pki["ca"]))
        async with WiseClient(
            personal_token=token, base_url=base, ssl_context=trusting, max_retries=0
        ) as wise:
            with pytest.raises(APIConnectionError):
                await wise.profiles.list()  # no client certificate: the handshake is refused
        with_cert = ssl.create_default_context(cafile=str(pki["ca"]))
        with_cert.load_cert_chain(str(pki["client_cert"]), str(pki["client_key"]))
        async with WiseClient(personal_token=token, base_url=base, ssl_context=with_cert) as wise:
            assert await wise.profiles.list()
        from wise_async._client import client_certificate_context

        context = client_certificate_context((str(pki["client_cert"]), str(pki["client_key"])))
        context.load_verify_locations(cafile=str(pki["ca"]))  # cert= uses the public CAs; ours is private
        async with WiseClient(personal_token=token, base_url=base, ssl_context=context) as wise:
            assert await wise.profiles.list()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
