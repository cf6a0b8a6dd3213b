"""A tiny real Strawberry federated subgraph the gateway tests compose and route to.

It reports what the gateway forwarded (headers) and counts the login/register calls that
reached it, so the tests can tell what the gateway let through. It raises any error code on
demand (``fail``), answers slowly on demand (``slow``), and takes a card and a date the way the
shop's subgraphs do (``payWith``, ``later``), for the error and timeout tests.

Run: python -m tests.gateway.stub_subgraph --port PORT   (or --print-sdl)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.asgi import GraphQL
from strawberry.types import Info

CALLS = {"login": 0, "register": 0}


@strawberry.type
class Forwarded:
    authorization: str | None
    gateway_secret: str | None
    service_token: str | None
    header_names: list[str]


@strawberry.federation.type(keys=["name"])
class Node:
    name: str
    level: int

    @classmethod
    def resolve_reference(cls, name: str) -> Node:
        return Node(name=name, level=int(name.rsplit("-", 1)[1]))

    @strawberry.field
    def child(self) -> Node:
        return Node(name=f"node-{self.level + 1}", level=self.level + 1)


@strawberry.input
class CardInput:
    number: str
    exp_month: int
    exp_year: int
    cvc: str


@strawberry.input
class PayInput:
    order_id: strawberry.ID
    card: CardInput


@strawberry.type
class AuthCalls:
    login: int
    register: int


def _headers(info: Info) -> Any:
    return info.context["request"].headers


@strawberry.type
class Query:
    @strawberry.field
    def forwarded(self, info: Info) -> Forwarded:
        headers = _headers(info)
        return Forwarded(
            authorization=headers.get("authorization"),
            gateway_secret=headers.get("x-gateway-secret"),
            service_token=headers.get("x-service-token"),
            header_names=sorted(headers.keys()),
        )

    @strawberry.field
    def header(self, info: Info, name: str) -> str | None:
        return _headers(info).get(name)

    @strawberry.field
    def hello(self) -> str:
        return "world"

    @strawberry.field
    def root(self) -> Node:
        return Node(name="node-1", level=1)

    @strawberry.field
    def auth_calls(self) -> AuthCalls:
        return AuthCalls(login=CALLS["login"], register=CALLS["register"])

    @strawberry.field
    def crash(self) -> str:
        raise RuntimeError("database password is hunter2 at db-internal:5432")

    @strawberry.field
    def missing_item(self, id: strawberry.ID) -> str:
        raise GraphQLError(f"Item {id} not found", extensions={"code": "NOT_FOUND"})

    @strawberry.field
    def bad_input(self) -> str:
        raise GraphQLError("quantity must be positive", extensions={"code": "BAD_USER_INPUT"})

    @strawberry.field
    def fail(self, code: str, message: str) -> str:
        """Raises an error with this code and message (and a detail a client may see)."""
        raise GraphQLError(message, extensions={"code": code, "detail": f"about {code}"})

    @strawberry.field
    async def slow(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return f"answered after {seconds} s"

    @strawberry.field
    def later(self, at: datetime) -> str:
        """The supergraph's DateTime takes any value: this subgraph coerces it."""
        return at.isoformat()


@strawberry.type
class Mutation:
    @strawberry.mutation
    def login(self, email: str, password: str) -> str:
        CALLS["login"] += 1
        return f"token-for-{email}"

    @strawberry.mutation
    def register(self, email: str, password: str) -> str:
        CALLS["register"] += 1
        return f"registered-{email}"

    @strawberry.mutation
    def pay_with(self, input: PayInput) -> str:
        return f"paid {input.order_id} with a card ending {input.card.number[-4:]}"


schema = strawberry.federation.Schema(query=Query, mutation=Mutation, federation_version="2.9")
app = GraphQL(schema)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int)
    parser.add_argument("--print-sdl", action="store_true")
    args = parser.parse_args(argv)
    if args.print_sdl:
        sys.stdout.write(schema.as_str() + "\n")
        return
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
