"""Keys a seeded FakeWise derives from its seed, so a served fake started twice with the same ``--seed``
signs with the same key (a receiver configured once keeps verifying). Test keys only: the "randomness"
is ``random.Random`` seeded with a public string."""

from __future__ import annotations

import functools
import math
import random

from cryptography.hazmat.primitives.asymmetric import ec, rsa

__all__ = ["seeded_ec_key", "seeded_rsa_key"]

_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]
_EXPONENT = 65537


def _probably_prime(n: int, rng: random.Random, rounds: int = 24) -> bool:
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return n in _SMALL_PRIMES
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(rng: random.Random, bits: int) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (0b11 << (bits - 2)) | 1  # top bits set: p*q has 2*bits
        if (candidate - 1) % _EXPONENT and _probably_prime(candidate, rng):
            return candidate


@functools.cache
def seeded_rsa_key(seed: int, purpose: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """The RSA key of ``(seed, purpose)``: the same on every run and machine."""
    rng = random.Random(f"wise-async FakeWise {purpose} key, seed {seed}")
    p = _prime(rng, bits // 2)
    q = _prime(rng, bits // 2)
    while q == p:
        q = _prime(rng, bits // 2)
    d = pow(_EXPONENT, -1, math.lcm(p - 1, q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(_EXPONENT, p * q),
    )
    return numbers.private_key()


@functools.cache
def seeded_ec_key(seed: int, purpose: str) -> ec.EllipticCurvePrivateKey:
    """The P-521 key of ``(seed, purpose)``."""
    rng = random.Random(f"wise-async FakeWise {purpose} key, seed {seed}")
    return ec.derive_private_key(rng.getrandbits(512) + 1, ec.SECP521R1())
