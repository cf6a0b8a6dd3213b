"""What the service needs from the outside: the order store and the items service.

The Cassandra store (``subgraphs.orders.store``) and the HTTP items client implement these;
the service tests use in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from shopkit.events import CloudEvent
from subgraphs.orders.domain.model import LineRequest, Order, OrderLine


class OrderStore(Protocol):
    async def claim_idempotency_key(self, customer_id: str, key: str, order_id: str) -> str:
        """Claims ``key`` for ``order_id``; returns the order id that holds it (ours if won)."""

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
        applied_event: str | None = None,
    ) -> bool:
        """Writes ``order`` (its status, version, last history entry, and its lines when
        ``replace_lines``) with ``event`` if the stored version is still ``expected_version``.
        Returns whether it applied."""

    async def customer_orders(
        self, customer_id: str, first: int, after: str | None
    ) -> tuple[list[str], str | None]:
        """Order ids of a customer, newest first, and the cursor of the next page."""

    async def awaiting_payment_since(self, cutoff: datetime) -> list[str]:
        """Ids of orders created at or before ``cutoff`` that may still await payment."""

    async def forget_awaiting(self, order: Order) -> None:
        """The order no longer awaits payment: drop it from the expiry index."""


class StockClient(Protocol):
    async def reserve(self, order_id: str, lines: Sequence[LineRequest]) -> list[OrderLine]:
        """Holds exactly these lines for the order (all or nothing) and prices them."""

    async def release(self, order_id: str) -> None: ...
