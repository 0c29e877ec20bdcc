from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """The user's SCA signing key, generated once per run (its public half is registered per test)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
