"""Who calls a subgraph, as the headers of a request say it: one place for the headers every
suite's GraphQL client sends, whether it calls as a user or as another service."""

from __future__ import annotations

from shopkit.auth import mint_service_token


def caller_headers(
    service_secret: str, *, token: str | None = None, service: str | None = None
) -> dict[str, str]:
    """A user's access ``token`` as the gateway forwards it (a bearer token), and/or a
    service token minted with ``service_secret`` for the calling ``service``."""
    headers: dict[str, str] = {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if service:
        headers["x-service-token"] = mint_service_token(service_secret, service)
    return headers
