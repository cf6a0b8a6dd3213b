"""What the service needs from the outside: the order store, the items service and the
payments service.

The Cassandra store (``subgraphs.orders.store``) and the HTTP clients of items and payments
implement these; the service tests use in-memory fakes (and respx for the HTTP answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from shopkit.events import CloudEvent
from subgraphs.orders.domain.model import KeyHolder, LineRequest, Order, OrderKey, OrderLine
from subgraphs.orders.domain.payments import PaymentAttempt


class OrderStore(Protocol):
    async def claim_idempotency_key(
        self, customer_id: str, key: str, claimant: KeyHolder
    ) -> KeyHolder:
        """Claims ``key`` for ``claimant`` (its order id, the time and its request's
        fingerprint) unless it is held; returns its holder (``claimant`` if won)."""

    async def take_over_idempotency_key(
        self, customer_id: str, key: str, previous: str, claimant: KeyHolder
    ) -> bool:
        """Claims for ``claimant`` a key still held by the order ``previous``; whether it
        applied."""

    async def drop_idempotency_key(self, customer_id: str, key: str, order_id: str) -> None:
        """Frees a key claimed by ``order_id`` whose order could not be created."""

    async def create(self, order: Order, event: CloudEvent) -> None:
        """Stores a new order with its ``order.created`` event, atomically."""

    async def get(self, order_id: str, *, serial: bool = False) -> Order | None:
        """The order, or None; ``serial`` reads past any in-flight conditional write."""

    async def transition(
        self,
        order: Order,
        expected_version: int,
        event: CloudEvent,
        *,
        replace_lines: bool = False,
        applied_events: frozenset[str] = frozenset(),
    ) -> bool:
        """Writes ``order`` (its status, version, last history entry, and its lines when
        ``replace_lines``) with ``event`` if the stored version is still ``expected_version``,
        adding ``applied_events`` to the order's in the same batch. Returns whether it
        applied."""

    async def customer_orders(
        self, customer_id: str, limit: int, after: OrderKey | None
    ) -> list[OrderKey]:
        """Up to ``limit`` keys of a customer's orders, newest first, after ``after``."""

    async def awaiting_payment_since(self, cutoff: datetime) -> list[str]:
        """Ids of orders created at or before ``cutoff`` that may still await payment."""

    async def forget_awaiting(self, order: Order) -> None:
        """The order no longer awaits payment: drop it from the expiry index."""


class StockClient(Protocol):
    async def reserve(self, order_id: str, lines: Sequence[LineRequest]) -> list[OrderLine]:
        """Holds exactly these lines for the order (all or nothing) and prices them."""

    async def release(self, order_id: str) -> None:
        """Releases what is held for the order; ``NotFound`` if nothing ever was."""


class PaymentsView(Protocol):
    async def attempts(self, order_ids: Sequence[str]) -> dict[str, list[PaymentAttempt]]:
        """Every payment attempt of each order, as payments knows them now. Raises if
        payments cannot answer: no order is taken to have no payment then."""
