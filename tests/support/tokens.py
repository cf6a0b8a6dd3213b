"""Access tokens for tests: an RSA key pair standing in for the accounts service's key."""

from __future__ import annotations

import time
import uuid
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from shopkit.auth import AccessTokenVerifier

KID = "test-key"
ISSUER = "shop-accounts"
AUDIENCE = "shop"


@cache
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_token(
    account_id: str | None = None,
    role: str = "CUSTOMER",
    *,
    key: rsa.RSAPrivateKey | None = None,
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "sub": account_id or str(uuid.uuid4()),
        "role": role,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 900,
        **claims,
    }
    return jwt.encode(
        payload,
        key or private_key(),
        algorithm="RS256",
        headers={"kid": KID, "typ": "JWT", **(headers or {})},
    )


# Not a test (pytest collects only test_*.py files): the verifier of the tests' tokens, and
# the argument is the HTTP client that create_app passes to a verifier factory.
def test_verifier(_http: object = None) -> AccessTokenVerifier:  # noqa: PT019, PT028
    """Pass as ``create_app(..., verifier=test_verifier)``."""
    return AccessTokenVerifier(
        issuer=ISSUER, audience=AUDIENCE, keys={KID: private_key().public_key()}
    )


# pytest's own marker that a function is no test; functions declare no such attribute.
test_verifier.__test__ = False  # type: ignore[attr-defined]
