"""GraphQL value types more than one subgraph exposes, defined once.

``Money``, ``PageInfo`` and ``Address`` are ``@shareable``: every subgraph that returns them
declares the same fields, and the gateway resolves them from whichever subgraph answered.
Subgraphs import these classes instead of declaring their own, so the shared definitions cannot
drift apart.

``Connection[T]`` and ``Edge[T]`` are the one shape of every list that can grow
(docs/api-conventions.md, "Lists"): Strawberry names ``Connection[Item]`` ``ItemConnection``
and ``Edge[Item]`` ``ItemEdge``, so each subgraph gets its own connection types, all alike.

``Address`` and ``AddressInput`` are the one address of the API (accounts' saved addresses,
orders' shipping address); ``shopkit.addresses`` holds its value and its one rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from shopkit import addresses, money
from shopkit.paging import Page

T = TypeVar("T")


@strawberry.federation.type(shareable=True, description="An amount in minor units (cents).")
class Money:
    amount: int
    currency: str = strawberry.field(description="ISO 4217 code, e.g. USD.")

    @classmethod
    def of(cls, value: money.Money) -> Money:
        return cls(amount=value.amount, currency=value.currency)


@strawberry.input(description="An amount in minor units (cents) and an ISO 4217 currency.")
class MoneyInput:
    amount: int
    currency: str

    def pair(self) -> tuple[int, str]:
        return self.amount, self.currency


@strawberry.federation.type(shareable=True, description="A postal address.")
class Address:
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code, e.g. US.")

    @classmethod
    def of(cls, value: addresses.Address | None) -> Address | None:
        """The kit's address value, field for field: both have the same fields by the same
        names (a field added to one and not the other fails here, at once)."""
        if value is None:
            return None
        return cls(**dataclasses.asdict(value))


@strawberry.input(
    description="A postal address: line1, city and country required (not blank), line1 and "
    "line2 at most 200 characters, city and region 100, postalCode 16 (letters, digits, spaces, "
    "hyphens), country an ISO 3166-1 alpha-2 code."
)
class AddressInput:
    line1: str
    city: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code, e.g. US.")
    line2: str | None = None
    region: str | None = None
    postal_code: str | None = None

    def raw(self) -> dict[str, str | None]:
        """The fields as the client sent them, by Python name, for ``parse_address``."""
        return {
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal_code,
            "country": self.country,
        }


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A node of a list and its cursor: `after` it, the list goes on.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="One page of a list: `first` nodes after the cursor `after`.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[Any], convert: Callable[[Any], T]) -> Connection[T]:
        """The connection of a page of domain objects, each converted to its GraphQL type."""
        return cls(
            edges=[Edge(cursor=cursor, node=convert(node)) for cursor, node in page.edges],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )
