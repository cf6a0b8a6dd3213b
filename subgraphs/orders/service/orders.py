"""The orders service: the one object the GraphQL layer, the consumers and the sweeps call.
Each concern lives in its own module, found by name:

* ``reads.py``             ``order``, ``myOrders``, ``Customer.orders``; who may see an order
* ``placing.py``           ``createOrder``: its idempotency key, its stock, its first write
* ``updates.py``           ``updateOrder``: new lines reserved, the old ones held again on failure
* ``status_changes.py``    ``cancelOrder``, ``completeOrder``, expiry
* ``payment_outcomes.py``  payment events (and payments the sweep found) applied to the order
* ``changes.py``           how a change is written: compare-and-set on the version
* ``unpaid.py``            the sweep of unpaid orders; ``status_feed.py`` the live status feed
* ``ports.py``             what all of these need from the outside

Every change is a compare-and-set on the order's version that writes the new state, its
history entry and its event together (``changes.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from subgraphs.orders.service.changes import OrderWriter, now
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
        writer = OrderWriter(store, notify=notify, clock=clock)
        self.reads = OrderReads(store)
        self.placing = OrderPlacing(store, stock, key_lease=key_lease, notify=notify, clock=clock)
        self.updates = OrderUpdates(store, stock, writer)
        self.status_changes = StatusChanges(store, writer, payment_window=payment_window)
        self.payment_outcomes = PaymentOutcomes(store, writer)

        # Each call the API layers, the consumers and the sweeps make, and the concern that
        # answers it.
        self.get_order = self.reads.get_order
        self.find_order = self.reads.find_order
        self.my_orders = self.reads.my_orders
        self.customer_orders = self.reads.customer_orders
        self.create_order = self.placing.create_order
        self.update_order = self.updates.update_order
        self.cancel_order = self.status_changes.cancel_order
        self.complete_order = self.status_changes.complete_order
        self.expire = self.status_changes.expire
        self.apply_payment = self.payment_outcomes.apply_payment
