"""Who is calling: verification of access tokens, service credentials and the gateway secret.

Three credentials reach a subgraph:

* ``Authorization: Bearer <jwt>``: an account's access token, signed by the accounts service
  (RS256, published as a JWKS). Verified here again even though the gateway verified it
  (defense in depth), with the algorithm pinned by the verifier and ``typ``, ``iss``, ``aud``,
  ``exp``, ``iat`` and ``sub`` required.
* ``x-gateway-secret``: proves the request came through the gateway, which never forwards
  client headers other than ``Authorization``.
* ``x-service-token``: a short-lived HS256 JWT minted by a service for direct calls to
  another (orders to items, payments to orders), signed with a secret that only services hold.

A request must carry the gateway secret or a service token; anything else is refused.

Who may do what is decided in each service's ``service/`` layer, never in the GraphQL or REST
layer: every use case a request reaches takes the caller's ``Identity`` first and checks it
with ``require_account``, ``require_caller``, ``require_admin`` or ``require_service`` (or a
rule of its own, such as "the order's owner") before it reads or validates anything else
(docs/ARCHITECTURE.md, "Who may call what").
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from shopkit.errors import Forbidden, Unauthenticated
from shopkit.settings import ServiceSettings

ACCESS_TOKEN_ALGORITHM = "RS256"
ACCESS_TOKEN_TYPE = "JWT"
SERVICE_TOKEN_ALGORITHM = "HS256"
SERVICE_AUDIENCE = "shop-internal"
SERVICE_ISSUER = "shop-services"
SERVICE_TOKEN_HEADER = "x-service-token"
GATEWAY_SECRET_HEADER = "x-gateway-secret"
ROLE_ADMIN = "ADMIN"
# Verified access tokens kept per process (a customer's token is sent with every request of
# its 15 minutes, and checking an RS256 signature was up to 15% of a subgraph's CPU).
VERIFIED_TOKENS_KEPT = 10_000


@dataclass(frozen=True)
class Identity:
    """The verified caller of one request."""

    account_id: str | None = None
    role: str | None = None
    service: str | None = None
    # When the access token stops being valid (its ``exp``, seconds since the epoch): a
    # long-lived stream (a subscription) ends then.
    expires_at: float | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.account_id is not None

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    @property
    def is_service(self) -> bool:
        return self.service is not None

    def can_access_account(self, account_id: str) -> bool:
        return self.is_admin or self.is_service or self.account_id == account_id


def require_account(identity: Identity) -> str:
    """The logged-in account making the request; ``Unauthenticated`` without one (a service
    credential alone is not an account)."""
    if identity.account_id is None:
        raise Unauthenticated("You must be logged in.")
    return identity.account_id


def require_caller(identity: Identity) -> None:
    """A logged-in account or one of the shop's services; ``Unauthenticated`` for anyone else."""
    if not identity.is_authenticated and not identity.is_service:
        raise Unauthenticated("You must be logged in.")


def require_admin(identity: Identity) -> None:
    """An admin: ``Unauthenticated`` without an account, ``Forbidden`` for any other role."""
    if not identity.is_authenticated:
        raise Unauthenticated("You must be logged in as an admin.")
    if not identity.is_admin:
        raise Forbidden("Only an admin may do this.")


def require_service(identity: Identity) -> None:
    """One of the shop's services (a service credential); ``Forbidden`` for anyone else."""
    if not identity.is_service:
        raise Forbidden("This operation is internal to the shop's services.")


class AccessTokenVerifier:
    """Verifies account access tokens against the accounts service's JWKS."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        keys: Mapping[str, Any] | None = None,
        http: httpx.AsyncClient | None = None,
        refresh_interval: float = 30.0,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url
        self._keys: dict[str, Any] = dict(keys or {})
        self._http = http
        self._refresh_interval = refresh_interval
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        # SHA-256 of the token -> (identity, its exp): the digest of the whole token, signature
        # included, is the key, so only the exact token that was verified is found (and the
        # process keeps no raw token); it is refused again once it expires.
        self._verified: OrderedDict[bytes, tuple[Identity, float]] = OrderedDict()

    async def _refresh(self) -> None:
        if self.jwks_url is None:
            return
        async with self._lock:
            if time.monotonic() - self._fetched_at < self._refresh_interval and self._keys:
                return
            client = self._http or httpx.AsyncClient(timeout=5.0)
            try:
                response = await client.get(self.jwks_url)
                response.raise_for_status()
                jwks = jwt.PyJWKSet.from_dict(response.json())
            except (httpx.HTTPError, jwt.PyJWTError, ValueError) as exc:
                raise Unauthenticated("Cannot verify the access token right now.") from exc
            finally:
                if self._http is None:
                    await client.aclose()
            self._keys = {k.key_id: k.key for k in jwks.keys if k.key_id}
            self._fetched_at = time.monotonic()

    async def verify(self, token: str) -> Identity:
        digest = hashlib.sha256(token.encode()).digest()
        known = self._verified.get(digest)
        if known is not None:
            identity, expires_at = known
            if time.time() < expires_at:
                self._verified.move_to_end(digest)
                return identity
            del self._verified[digest]
            raise Unauthenticated("The access token has expired.")
        identity, expires_at = await self._verify_signature(token)
        self._verified[digest] = (identity, expires_at)
        if len(self._verified) > VERIFIED_TOKENS_KEPT:
            self._verified.popitem(last=False)
        return identity

    async def _verify_signature(self, token: str) -> tuple[Identity, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("The access token is malformed.") from exc
        if header.get("typ") != ACCESS_TOKEN_TYPE or header.get("alg") != ACCESS_TOKEN_ALGORITHM:
            raise Unauthenticated("The access token has the wrong type or algorithm.")
        kid = str(header.get("kid", ""))
        if kid not in self._keys:
            await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated("The access token was signed by an unknown key.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ACCESS_TOKEN_ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The access token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("The access token is invalid.") from exc
        expires_at = float(claims["exp"])
        identity = Identity(
            account_id=str(claims["sub"]), role=claims.get("role"), expires_at=expires_at
        )
        return identity, expires_at


_minted: dict[tuple[str, str], tuple[str, float]] = {}


def mint_service_token(secret: str, service: str, ttl_seconds: int = 300) -> str:
    """A service credential, reused while more than half its life is left (a service calls
    another for every order and payment, and signing each call cost the CPU of a JWT)."""
    kept = _minted.get((secret, service))
    if kept is not None and kept[1] - time.time() > ttl_seconds / 2:
        return kept[0]
    now = int(time.time())
    claims = {
        "iss": SERVICE_ISSUER,
        "aud": SERVICE_AUDIENCE,
        "sub": service,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    token = jwt.encode(claims, secret, algorithm=SERVICE_TOKEN_ALGORITHM, headers={"typ": "JWT"})
    _minted[(secret, service)] = (token, now + ttl_seconds)
    return token


def verify_service_token(secret: str, token: str) -> str:
    """Returns the calling service's name, or raises ``Unauthenticated``."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[SERVICE_TOKEN_ALGORITHM],
            audience=SERVICE_AUDIENCE,
            issuer=SERVICE_ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated("The service credential is invalid.") from exc
    return str(claims["sub"])


class RequestAuthenticator:
    """Turns a request's headers into an ``Identity``, or refuses the request."""

    def __init__(self, settings: ServiceSettings, verifier: AccessTokenVerifier) -> None:
        self.settings = settings
        self.verifier = verifier

    async def authenticate(self, headers: Mapping[str, str]) -> Identity:
        service = None
        service_token = headers.get(SERVICE_TOKEN_HEADER)
        if service_token:
            service = verify_service_token(self.settings.service_secret, service_token)
        elif self.settings.require_gateway and not hmac.compare_digest(
            headers.get(GATEWAY_SECRET_HEADER, "").encode(), self.settings.gateway_secret.encode()
        ):
            raise Forbidden("Requests must come through the gateway.")
        authorization = headers.get("authorization", "")
        if not authorization:
            return Identity(service=service)
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("The Authorization header must be 'Bearer <token>'.")
        identity = await self.verifier.verify(token.strip())
        return dataclasses.replace(identity, service=service)
