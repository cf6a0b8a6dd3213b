"""What an order is: its lines (prices captured when ordered), total, address and history.

The shipping address is the kit's one ``Address`` (``shopkit.addresses``), the same value and
rule as accounts' saved addresses.

Amounts are integers in the currency's minor unit (cents), as items prices them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from shopkit.addresses import Address
from shopkit.money import Money

MAX_REASON = 500


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    REFUNDED = "REFUNDED"


AWAITING_PAYMENT = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_FAILED})


@dataclass(frozen=True)
class LineRequest:
    """A line as the customer asks for it, before items prices it."""

    item_id: str
    quantity: int


@dataclass(frozen=True)
class OrderLine:
    item_id: str
    quantity: int
    unit_price: Money
    name: str | None = None
    upc: str | None = None

    @property
    def line_total(self) -> Money:
        return self.unit_price.times(self.quantity)


@dataclass(frozen=True)
class HistoryEntry:
    status: OrderStatus
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class KeyHolder:
    """Who holds a createOrder idempotency key: the order id it was claimed for, when (None
    for a claim written before claims were timed), and the fingerprint of the request that
    claimed it (None for a claim written before fingerprints were kept)."""

    order_id: str
    claimed_at: datetime | None
    fingerprint: str | None = None


class OrderKey(NamedTuple):
    """Where an order stands in its customer's list (newest first): what a page seeks to."""

    created_at: datetime
    order_id: str


@dataclass(frozen=True)
class Order:
    id: str
    customer_id: str
    status: OrderStatus
    version: int
    lines: tuple[OrderLine, ...]
    currency: str
    created_at: datetime
    updated_at: datetime
    shipping_address: Address | None = None
    history: tuple[HistoryEntry, ...] = ()
    applied_events: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> OrderKey:
        return OrderKey(self.created_at, self.id)

    @property
    def total(self) -> Money:
        return Money(sum(line.line_total.amount for line in self.lines), self.currency)

    def moved_to(self, status: OrderStatus, at: datetime, reason: str | None = None) -> Order:
        """The order after a transition: next version, one more history entry."""
        return replace(
            self,
            status=status,
            version=self.version + 1,
            updated_at=at,
            history=(*self.history, HistoryEntry(status, at, reason)),
        )
