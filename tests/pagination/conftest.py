"""Fixtures for the pagination, statement and file helper tests: a FakeWise and a client over it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wise_async import PrivateKeyScaSigner, WiseClient
from wise_async.testing import FakeWise


@pytest.fixture(scope="session")
def sca_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def fake() -> FakeWise:
    return FakeWise()


@pytest.fixture
def profile_id(fake: FakeWise) -> int:
    return fake.personal_profile_id


@pytest.fixture
async def wise(fake: FakeWise, fake_transport: httpx.AsyncBaseTransport) -> AsyncIterator[WiseClient]:
    async with WiseClient(personal_token=fake.add_personal_token(), transport=fake_transport) as client:
        yield client


@pytest.fixture
async def signing_wise(
    fake: FakeWise, sca_key: rsa.RSAPrivateKey, fake_transport: httpx.AsyncBaseTransport
) -> AsyncIterator[WiseClient]:
    """A client that answers SCA challenges by signing (statements are SCA protected)."""
    pem = sca_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fake.register_sca_public_key(pem)
    async with WiseClient(
        personal_token=fake.add_personal_token(),
        transport=fake_transport,
        sca_handler=PrivateKeyScaSigner(sca_key),
    ) as client:
        yield client
