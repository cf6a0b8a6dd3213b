"""Errors the domain raises and every API layer understands, and the catalogue of every error
code a client can see.

Each ``ShopError`` carries a stable machine-readable ``code``. GraphQL answers put it in
``extensions.code`` (graphql-core copies ``extensions`` from the original error); the REST
layers map it to an HTTP status. Only the standard library is imported, so any domain module
may raise these.

``CATALOGUE`` lists every code a client can receive, from a service or from the gateway, with
its meaning and HTTP status. It is the one list: the gateway lets exactly these codes through
to clients (``gateway/error-codes.json`` is generated from it by ``make schema``, and a test
fails when the generated file is stale) and masks anything else as ``INTERNAL_SERVER_ERROR``;
a test fails when a ``ShopError`` subclass raises a code that is not listed here.

About the status: a REST answer carrying the code has this status, and so has a GraphQL
request the gateway refuses before executing it (a request error: parse, validation, variable
coercion, size, media type, rate limit). An error raised while a GraphQL operation executes (a
field error, next to ``data``) keeps HTTP 200, as GraphQL over HTTP prescribes: the status
then belongs to the whole response, which may hold data and several errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorCode:
    """One ``extensions.code`` a client can see."""

    code: str
    http_status: int
    meaning: str
    raised_by: str  # "services", "gateway" or "services, gateway"


CATALOGUE: tuple[ErrorCode, ...] = (
    ErrorCode(
        "BAD_REQUEST",
        400,
        "The HTTP request is not a GraphQL request the shop accepts: a body that is not JSON, "
        "no query, a batch, an invalid Content-Length; with HTTP 403, a request a browser "
        "could send cross-site (GET, text/plain or form POST) without an x-graphql-csrf header; "
        "with HTTP 405 (and an Allow header), a method the REST path does not answer.",
        "services, gateway",
    ),
    ErrorCode(
        "GRAPHQL_PARSE_FAILED",
        400,
        "The document is not valid GraphQL syntax, or is longer than the token limit (2000).",
        "gateway",
    ),
    ErrorCode(
        "GRAPHQL_VALIDATION_FAILED",
        400,
        "The document does not validate against the public schema (an unknown field or "
        "argument, a wrong literal), or exceeds the depth (10), alias (30) or directive (50) "
        "limits.",
        "gateway",
    ),
    ErrorCode(
        "OPERATION_RESOLUTION_FAILURE",
        400,
        "operationName names no operation of the document, or a document with several "
        "operations came without one.",
        "gateway",
    ),
    ErrorCode(
        "PERSISTED_QUERY_NOT_FOUND",
        400,
        "An automatic persisted query hash the gateway does not know: send the full query.",
        "gateway",
    ),
    ErrorCode(
        "BAD_USER_INPUT",
        422,
        "An argument or input value is invalid; `extensions.field` names it when known. Also a "
        "variable the gateway cannot coerce to its declared type (HTTP 400, a request error; "
        "the message never repeats the value).",
        "services, gateway",
    ),
    ErrorCode(
        "IDEMPOTENCY_KEY_REUSED",
        422,
        "This idempotency key was already used by this caller with other parameters: use a new "
        "key for a new request.",
        "services",
    ),
    ErrorCode(
        "UNAUTHENTICATED",
        401,
        "No valid credential: a missing, malformed, expired or forged token, a wrong email or "
        "password, or an operation that needs a logged-in account.",
        "services, gateway",
    ),
    ErrorCode(
        "FORBIDDEN",
        403,
        "The caller is known but may not do this (another customer's data, an admin-only or "
        "service-only operation, a request that did not come through the gateway).",
        "services",
    ),
    ErrorCode(
        "NOT_FOUND",
        404,
        "The object a command names does not exist (or is not the caller's); from the gateway, "
        "a path it does not serve.",
        "services, gateway",
    ),
    ErrorCode(
        "CONFLICT",
        409,
        "The request conflicts with the current state (not enough stock, an order no longer "
        "payable, a change racing another). `extensions.reason` is IDEMPOTENCY_IN_PROGRESS "
        "when the first request with the same idempotency key is still running: retry it "
        "shortly with the same key.",
        "services",
    ),
    ErrorCode(
        "REQUEST_ENTITY_TOO_LARGE",
        413,
        "The request body is larger than the gateway accepts (SHOP_MAX_REQUEST_BYTES).",
        "gateway",
    ),
    ErrorCode(
        "UNSUPPORTED_MEDIA_TYPE",
        415,
        "A POST whose Content-Type is not application/json (or application/graphql).",
        "gateway",
    ),
    ErrorCode(
        "RATE_LIMITED",
        429,
        "Too many attempts: login/register per client address at the gateway, or failed "
        "logins for one email from one client; `extensions.retryAfterSeconds` (services) or "
        "the Retry-After header (gateway) says when to retry.",
        "services, gateway",
    ),
    ErrorCode(
        "INTERNAL_SERVER_ERROR",
        500,
        "An unexpected failure; the message is always 'Unexpected error.' and the details are "
        "only in the logs.",
        "services, gateway",
    ),
    ErrorCode(
        "SERVICE_UNAVAILABLE",
        503,
        "A service or a dependency (a database, another service, the card processor) did not "
        "answer in time or is down; retry shortly (a mutation that took an idempotency key may "
        "have completed: retry it with the same key).",
        "services, gateway",
    ),
)
CODES: dict[str, ErrorCode] = {entry.code: entry for entry in CATALOGUE}


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
