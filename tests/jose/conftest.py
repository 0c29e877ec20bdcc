"""Fixtures for the JOSE tests: real keys generated once per session, a FakeWise that speaks JOSE as
Wise does, and a WiseClient wired to it with a JoseKeyring."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from wise_async import WiseClient
from wise_async.jose import ClientKeyPair, JoseKeyring
from wise_async.testing import FakeJose, FakeWise

CLIENT_ID = "jose-client"
CLIENT_SECRET = "jose-client-secret"


@dataclass(frozen=True)
class WiseKeys:
    """The fake Wise's private keys (tests hold them to look inside what the SDK sends)."""

    encryption: rsa.RSAPrivateKey
    signing: ec.EllipticCurvePrivateKey
    card: rsa.RSAPrivateKey
    webhooks: rsa.RSAPrivateKey


@dataclass(frozen=True)
class ClientKeys:
    encryption: ClientKeyPair  # RSA: Wise encrypts responses to it
    signing: ClientKeyPair  # EC P-521: our JWS
    other_rsa: ClientKeyPair  # an impostor / swapped key with the same kind


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def wise_keys() -> WiseKeys:
    return WiseKeys(_rsa(), ec.generate_private_key(ec.SECP521R1()), _rsa(), _rsa())


@pytest.fixture(scope="session")
def client_keys() -> ClientKeys:
    return ClientKeys(
        ClientKeyPair.generate("RSA", kid="7d5a1d8e-4a8e-4c59-9d4e-2b7f0c7f9a11"),
        ClientKeyPair.generate("EC-P521", kid="0f3c9a52-1b7e-4c1d-8e2f-5a6b7c8d9e00"),
        ClientKeyPair.generate("RSA", kid="7d5a1d8e-4a8e-4c59-9d4e-2b7f0c7f9a11"),
    )


@pytest.fixture
def fake(wise_keys: WiseKeys) -> FakeWise:
    fake = FakeWise()
    fake.add_client(CLIENT_ID, CLIENT_SECRET)
    FakeJose.attach(
        fake, encryption_key=wise_keys.encryption, signing_key=wise_keys.signing, card_key=wise_keys.card
    )
    fake.webhooks._key = wise_keys.webhooks
    return fake


@pytest.fixture
def jose(fake: FakeWise) -> FakeJose:
    assert isinstance(fake.jose, FakeJose)
    return fake.jose


@pytest.fixture
def keyring(client_keys: ClientKeys) -> JoseKeyring:
    return JoseKeyring(client_keys.encryption, signing_key=client_keys.signing)


@pytest.fixture
def registered(jose: FakeJose, client_keys: ClientKeys) -> None:
    """The client's keys as if uploaded earlier (tests of the upload itself skip this)."""
    jose.register_client_key(
        client_keys.encryption.public_pem(), key_id=client_keys.encryption.kid, scope="PAYLOAD_ENCRYPTION"
    )
    jose.register_client_key(
        client_keys.signing.public_pem(), key_id=client_keys.signing.kid, scope="PAYLOAD_SIGNING"
    )


def make_client(fake: FakeWise, **options: object) -> WiseClient:
    tokens = fake.issue_user_token(client_id=CLIENT_ID)
    return WiseClient(
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        clock=fake.clock.now,
        **{"transport": fake.transport(), **options},  # type: ignore[arg-type]
    )


@pytest.fixture
async def wise(
    fake: FakeWise, keyring: JoseKeyring, registered: None, fake_transport: httpx.AsyncBaseTransport
) -> AsyncIterator[WiseClient]:
    async with make_client(fake, jose_keys=keyring, transport=fake_transport) as client:
        yield client
