"""Live order status (the ``orderStatusChanged`` subscription): the order as it is now, then
each status it moves to, until a status after which nothing more can happen.

The feed is woken by the order's events on Kafka (``shopkit.events.fanout``: every orders
process reads every order event, so any replica serves any subscriber whichever replica
consumed the payment event), and on each wake it re-reads the order: what it sends comes from
the database, and every new entry of the order's history is sent once, in order, even when two
changes landed between two wakes (CANCELLED then REFUNDED). No polling: without a wake, the
feed reads nothing.

Who may follow an order: its owner or an admin, with an access token. Anyone else (another
customer, a service credential alone) is told the order does not exist, exactly as for an
order that does not exist, so the answer reveals nothing; a caller without a token is told to
log in before any order is read. The feed ends with ``UNAUTHENTICATED`` when the token
expires, and with ``SERVICE_UNAVAILABLE`` when the process stops serving (a restart): the
client subscribes again and gets the current status first.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

from shopkit.auth import Identity, require_account
from shopkit.errors import Forbidden, NotFound, Unauthenticated, Unavailable
from shopkit.events.fanout import KeyedFanout
from subgraphs.orders.domain.model import Order, OrderStatus
from subgraphs.orders.service.orders import OrderService

TOKEN_EXPIRED = "The access token expired during the subscription; subscribe again with a new one."
RESTARTING = "The orders service is restarting; subscribe again to resume from the current status."


def is_final(order: Order) -> bool:
    """Whether no further status can follow: COMPLETED, REFUNDED, or CANCELLED before any
    payment (a paid order that is cancelled goes on to REFUNDED when payments refunds it)."""
    if order.status in (OrderStatus.COMPLETED, OrderStatus.REFUNDED):
        return True
    if order.status is OrderStatus.CANCELLED:
        return not any(entry.status is OrderStatus.PAID for entry in order.history)
    return False


class OrderStatusFeed:
    def __init__(
        self,
        service: OrderService,
        fanout: KeyedFanout,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.service = service
        self.fanout = fanout
        self.clock = clock

    async def _read(self, identity: Identity, order_id: str) -> Order:
        try:
            order = await self.service.get_order(identity, order_id)
        except Forbidden:
            raise NotFound(f"Order {order_id} does not exist.") from None
        if not (identity.is_admin or identity.account_id == order.customer_id):
            raise NotFound(f"Order {order_id} does not exist.")
        return order

    def _seconds_left(self, identity: Identity) -> float | None:
        if identity.expires_at is None:
            return None
        left = identity.expires_at - self.clock()
        if left <= 0:
            raise Unauthenticated(TOKEN_EXPIRED)
        return left

    async def follow(self, identity: Identity, order_id: str) -> AsyncIterator[Order]:
        """The order now, then once per status change, ending after a final status."""
        account_id = require_account(identity)
        self._seconds_left(identity)
        # Watch before the first read, so a change between the read and the watch is not lost.
        with self.fanout.watching(order_id, account_id) as watch:
            order = await self._read(identity, order_id)
            yield order
            sent = len(order.history)
            last = order.status
            while not is_final(order):
                woken = await watch.woken(self._seconds_left(identity))
                if watch.closed:
                    raise Unavailable(RESTARTING)
                if not woken:
                    continue  # the token's expiry: the next turn raises
                order = await self._read(identity, order_id)
                for entry in order.history[sent:]:
                    if entry.status is not last:
                        yield replace(order, status=entry.status, updated_at=entry.at)
                        last = entry.status
                sent = len(order.history)
