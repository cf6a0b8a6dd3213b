"""The orders service: the one object the GraphQL layer, the consumers and the sweeps call.
Each concern lives in its own module, found by name:

* ``reads.py``             ``order``, ``myOrders``, ``Customer.orders``; who may see an order
* ``placing.py``           ``createOrder``: its idempotency key, its stock, its first write
* ``updates.py``           ``updateOrder``: new lines reserved, the old ones held again on failure
* ``status_changes.py``    ``cancelOrder``, ``completeOrder``, expiry
* ``payment_outcomes.py``  payment events (and payments the sweep found) applied to the order
* ``changes.py``           how a status change is written: compare-and-set on the version
* ``unpaid.py``            the sweep of unpaid orders; ``status_feed.py`` the live status feed
* ``ports.py``             what all of these need from the outside

Every change is a compare-and-set on the order's version that writes the new state, its
history entry and its event together (``changes.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from shopkit.auth import Identity
from shopkit.paging import Page
from subgraphs.orders.domain.model import Address, LineRequest, Money, Order
from subgraphs.orders.domain.transitions import PaymentOutcome
from subgraphs.orders.service.changes import StatusWriter, now
from subgraphs.orders.service.payment_outcomes import PaymentOutcomes
from subgraphs.orders.service.placing import KEY_LEASE, OrderPlacing
from subgraphs.orders.service.ports import OrderStore, StockClient
from subgraphs.orders.service.reads import OrderReads
from subgraphs.orders.service.status_changes import StatusChanges
from subgraphs.orders.service.updates import OrderUpdates


class OrderService:
    def __init__(
        self,
        store: OrderStore,
        stock: StockClient,
        *,
        payment_window: timedelta = timedelta(minutes=30),
        key_lease: timedelta = KEY_LEASE,
        notify: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.store = store
        self.stock = stock
        self.clock = clock  # the sweep of unpaid orders reads the time the service keeps
        writer = StatusWriter(store, notify=notify, clock=clock)
        self.reads = OrderReads(store)
        self.placing = OrderPlacing(store, stock, key_lease=key_lease, notify=notify, clock=clock)
        self.updates = OrderUpdates(store, stock, notify=notify, clock=clock)
        self.status_changes = StatusChanges(store, writer, payment_window=payment_window)
        self.payment_outcomes = PaymentOutcomes(store, writer, notify=notify, clock=clock)

    # -- reads -----------------------------------------------------------------------------

    async def get_order(self, identity: Identity, order_id: str) -> Order:
        return await self.reads.get_order(identity, order_id)

    async def find_order(self, identity: Identity, order_id: str) -> Order | None:
        return await self.reads.find_order(identity, order_id)

    async def my_orders(self, identity: Identity, first: int, after: str | None) -> Page[Order]:
        return await self.reads.my_orders(identity, first, after)

    async def customer_orders(
        self, identity: Identity, customer_id: str, first: int, after: str | None
    ) -> Page[Order]:
        return await self.reads.customer_orders(identity, customer_id, first, after)

    # -- commands --------------------------------------------------------------------------

    async def create_order(
        self,
        identity: Identity,
        lines: Sequence[LineRequest],
        shipping_address: Address | Mapping[str, str | None] | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        return await self.placing.create_order(identity, lines, shipping_address, idempotency_key)

    async def update_order(
        self, identity: Identity, order_id: str, lines: Sequence[LineRequest]
    ) -> Order:
        return await self.updates.update_order(identity, order_id, lines)

    async def cancel_order(
        self, identity: Identity, order_id: str, reason: str | None = None
    ) -> Order:
        return await self.status_changes.cancel_order(identity, order_id, reason)

    async def complete_order(self, identity: Identity, order_id: str) -> Order:
        return await self.status_changes.complete_order(identity, order_id)

    # -- payments and expiry ------------------------------------------------------------------

    async def apply_payment(
        self,
        event_id: str | None,
        outcome: PaymentOutcome,
        order_id: str,
        *,
        payment_id: str | None = None,
        amount: Money | None = None,
    ) -> bool:
        return await self.payment_outcomes.apply_payment(
            event_id, outcome, order_id, payment_id=payment_id, amount=amount
        )

    async def expire(self, order: Order) -> Order | None:
        return await self.status_changes.expire(order)
