"""Money as every domain holds it: an amount in the currency's minor units (cents) and its
ISO 4217 code. Integers only, so sums and comparisons are exact.

Standard library only, so any ``domain/`` may import it (with ``shopkit.errors`` and
``shopkit.order_lines``, the only kit modules a domain imports). The GraphQL type that shows
it to clients is ``shopkit.graphql_types.Money``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def times(self, quantity: int) -> Money:
        """``quantity`` of this amount (a line's total from its unit price)."""
        return Money(self.amount * quantity, self.currency)
