"""GraphQL value types more than one subgraph exposes, defined once.

``Money`` and ``PageInfo`` are ``@shareable``: every subgraph that returns them declares the
same fields, and the gateway resolves them from whichever subgraph answered. Subgraphs import
these classes instead of declaring their own, so the shared definitions cannot drift apart.
"""

from __future__ import annotations

import strawberry

from shopkit import money


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


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
