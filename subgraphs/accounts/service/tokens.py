"""Access tokens: RS256 JWTs signed with the service's key, and the JWKS that publishes it.

The key comes from ``ACCOUNTS_JWT_PRIVATE_KEY`` (required in production); in development and
tests one is generated on first start into ``<data_dir>/accounts/jwt-private.pem`` (mode
0600) and reused. The key id is the key's RFC 7638 thumbprint. The service verifies its own
tokens with ``shopkit.auth.AccessTokenVerifier`` given these public keys directly; the other
services fetch the JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shopkit.auth import ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_TYPE, AccessTokenVerifier

KEY_FILE = Path("accounts") / "jwt-private.pem"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of an RSA public key."""
    numbers = public_key.public_numbers()
    canonical = json.dumps(
        {"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
            raise ValueError("the JWT signing key must be an RSA private key of 2048+ bits")
        return cls(key, thumbprint(key.public_key()))

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def jwk(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        jwk.pop("key_ops", None)  # RFC 7517: "use" and "key_ops" should not both appear
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ACCESS_TOKEN_ALGORITHM}


def development_key(data_dir: Path) -> SigningKey:
    """Loads ``<data_dir>/accounts/jwt-private.pem``, creating it (0600) if missing. Two
    processes starting together end up with the same key: the file appears atomically."""
    path = data_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    return SigningKey.from_pem(path.read_bytes())


class TokenIssuer:
    def __init__(self, key: SigningKey, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        self.key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds

    def issue(self, account_id: str, role: str) -> tuple[str, datetime]:
        now = int(time.time())
        expires = now + self.ttl_seconds
        claims = {
            "sub": account_id,
            "role": role,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": expires,
        }
        token = jwt.encode(
            claims,
            self.key.private_key,
            algorithm=ACCESS_TOKEN_ALGORITHM,
            headers={"kid": self.key.kid, "typ": ACCESS_TOKEN_TYPE},
        )
        return token, datetime.fromtimestamp(expires, UTC)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.jwk()]}

    def verifier(self) -> AccessTokenVerifier:
        return AccessTokenVerifier(
            issuer=self.issuer, audience=self.audience, keys={self.key.kid: self.key.public_key}
        )
