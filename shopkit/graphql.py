"""GraphQL pieces every subgraph shares: the schema class and the request context. (Who may
call what is decided in each service's ``service/`` layer: ``shopkit.auth.require_*``.)

Expected failures are ``ShopError``s and reach the caller with their message and
``extensions.code``; anything else is logged with its traceback and masked as
"Unexpected error." so internals never leak.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any, Self

import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import MaskErrors, ParserCache, SchemaExtension, ValidationCache
from strawberry.types import ExecutionContext

from shopkit.auth import Identity
from shopkit.errors import InvalidInput, ShopError
from shopkit.settings import ServiceSettings
from shopkit.tracing import graphql_extensions

log = logging.getLogger(__name__)

FEDERATION_VERSION = "2.9"
UNEXPECTED = "Unexpected error."
# A subgraph is called by the gateway (whose query planner sends the same few operations for
# every client request of a kind) and by the other services (a fixed set of operations), so
# parsing and validating each request's text again is pure waste: it was a quarter to 40% of
# every subgraph's CPU (issue 11). The caches are bounded LRUs keyed by the query text, so an
# unexpected variety of texts costs memory up to this many entries and no more.
OPERATION_CACHE_SIZE = 1024


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (ShopError, GraphQLError))


class ShopSchema(strawberry.federation.Schema):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("federation_version", FEDERATION_VERSION)
        extensions = list(kwargs.pop("extensions", []))
        extensions += [  # factories: each request gets its own extension objects
            functools.partial(ParserCache, maxsize=OPERATION_CACHE_SIZE),
            functools.partial(ValidationCache, maxsize=OPERATION_CACHE_SIZE),
            functools.partial(
                MaskErrors, should_mask_error=is_unexpected, error_message=UNEXPECTED
            ),
        ]
        kwargs["extensions"] = extensions
        super().__init__(*args, **kwargs)

    def get_extensions(self, sync: bool = False) -> list[SchemaExtension]:
        """The schema's extensions, and tracing's when it is on in this process (decided when
        the app is created, after the schema: see ``shopkit.tracing``)."""
        extensions = super().get_extensions(sync)
        extensions.extend(extension() for extension in graphql_extensions())
        return extensions

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if is_unexpected(error):
                log.error(
                    "unexpected error in a resolver",
                    exc_info=error.original_error,
                    extra={"path": error.path},
                )


def refuse_null(input: object, *fields: str) -> None:
    """The update-input rule of every subgraph (docs/api-conventions.md, "Update inputs"): an
    omitted field (Strawberry's ``UNSET``) keeps its value, an explicit null clears it, and a
    null on a field that cannot be cleared is ``BAD_USER_INPUT`` naming it, as GraphQL itself
    refuses a null for a non-null type, before any resolver work."""
    for name in fields:
        if getattr(input, name) is None:
            graphql_name = strawberry_field_name(name)
            raise InvalidInput(
                f"'{graphql_name}' cannot be cleared: omit it to keep it as it is.",
                field=graphql_name,
            )


def strawberry_field_name(python_name: str) -> str:
    head, *rest = python_name.split("_")
    return head + "".join(part.title() for part in rest)


def given(value: Any) -> Any:
    """An update input's field for a service that takes None for "keep": UNSET is None."""
    return None if value is strawberry.UNSET else value


@dataclass
class RequestContext:
    """The typed context every resolver reads through ``strawberry.Info[Context]``;
    services subclass it with their service objects and DataLoaders."""

    request: Request
    response: Response | None
    identity: Identity
    settings: ServiceSettings

    @classmethod
    def for_request(
        cls, request: Request, response: Response | None, identity: Identity, **own: Any
    ) -> Self:
        """The context of one request: the kit's fields, and ``own``, the service's fields."""
        return cls(
            request=request,
            response=response,
            identity=identity,
            settings=request.app.state.settings,
            **own,
        )
