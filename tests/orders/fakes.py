"""In-memory stand-in for service tests: the order store (the Cassandra store is tested
against the real CQL engines in store/test_orders.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from shopkit.events import CloudEvent
from subgraphs.orders.domain.model import AWAITING_PAYMENT, KeyHolder, Order, OrderKey


class FakeOrderStore:
    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.events: list[CloudEvent] = []
        self.keys: dict[tuple[str, str], KeyHolder] = {}
        self.awaiting: set[str] = set()

    async def claim_idempotency_key(
        self, customer_id: str, key: str, claimant: KeyHolder
    ) -> KeyHolder:
        return self.keys.setdefault((customer_id, key), claimant)

    async def take_over_idempotency_key(
        self, customer_id: str, key: str, previous: str, claimant: KeyHolder
    ) -> bool:
        holder = self.keys.get((customer_id, key))
        if holder is None or holder.order_id != previous:
            return False
        self.keys[(customer_id, key)] = claimant
        return True

    async def drop_idempotency_key(self, customer_id: str, key: str, order_id: str) -> None:
        holder = self.keys.get((customer_id, key))
        if holder is not None and holder.order_id == order_id:
            del self.keys[(customer_id, key)]

    async def create(self, order: Order, event: CloudEvent) -> None:
        assert order.id not in self.orders
        self.orders[order.id] = order
        self.events.append(event)
        self.awaiting.add(order.id)

    async def get(self, order_id: str, *, serial: bool = False) -> Order | None:
        return self.orders.get(order_id)

    async def transition(
        self,
        order: Order,
        expected_version: int,
        event: CloudEvent,
        *,
        replace_lines: bool = False,
        applied_events: frozenset[str] = frozenset(),
    ) -> bool:
        current = self.orders[order.id]
        if current.version != expected_version:
            return False
        if not replace_lines:
            order = replace(order, lines=current.lines, currency=current.currency)
        order = replace(order, applied_events=current.applied_events | applied_events)
        self.orders[order.id] = order
        self.events.append(event)
        return True

    async def customer_orders(
        self, customer_id: str, limit: int, after: OrderKey | None
    ) -> list[OrderKey]:
        # The CQL table's clustering order: created_at DESC, then order_id ASC.
        mine = sorted(
            (o.key for o in self.orders.values() if o.customer_id == customer_id),
            key=lambda k: (-k.created_at.timestamp(), k.order_id),
        )
        if after is not None:
            mine = [
                k
                for k in mine
                if k.created_at < after.created_at
                or (k.created_at == after.created_at and k.order_id > after.order_id)
            ]
        return mine[:limit]

    async def awaiting_payment_since(self, cutoff: datetime) -> list[str]:
        return [i for i in self.awaiting if self.orders[i].created_at <= cutoff]

    async def forget_awaiting(self, order: Order) -> None:
        if order.status not in AWAITING_PAYMENT:
            self.awaiting.discard(order.id)

    def types(self) -> list[str]:
        return [e.type for e in self.events]
