"""Errors the domain raises and every API layer understands.

Each carries a stable machine-readable ``code``. GraphQL answers put it in
``extensions.code`` (graphql-core copies ``extensions`` from the original error); the REST
layers map it to an HTTP status. Only the standard library is imported, so any domain module
may raise these.
"""

from __future__ import annotations

from typing import Any


class ShopError(Exception):
    """An expected failure whose message is safe to show to the caller."""

    code = "BAD_REQUEST"
    http_status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.extensions: dict[str, Any] = {"code": self.code, **details}


class InvalidInput(ShopError):
    code = "BAD_USER_INPUT"
    http_status = 422


class NotFound(ShopError):
    code = "NOT_FOUND"
    http_status = 404


class Conflict(ShopError):
    code = "CONFLICT"
    http_status = 409


class Unauthenticated(ShopError):
    code = "UNAUTHENTICATED"
    http_status = 401


class Forbidden(ShopError):
    code = "FORBIDDEN"
    http_status = 403


class RateLimited(ShopError):
    code = "RATE_LIMITED"
    http_status = 429


class Unavailable(ShopError):
    """A dependency (another service, the processor) did not answer in time."""

    code = "SERVICE_UNAVAILABLE"
    http_status = 503
