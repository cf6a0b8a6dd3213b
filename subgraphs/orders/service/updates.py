"""Changing an order's lines (``updateOrder``) while it awaits payment.

An update reserves its new lines before it stores them; if it ends without storing them (too
many concurrent changes, a failed or unknown write, a reservation refused or unanswered on a
retry) while the order still awaits payment, the reservation is set back to the stored lines.
If its write lost to a payment, items commits the lines ``order.paid`` carries, whatever was
held.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from shopkit.auth import Identity, require_account
from shopkit.errors import Conflict
from subgraphs.orders.domain.events import OrderUpdated
from subgraphs.orders.domain.lines import normalize_lines, single_currency
from subgraphs.orders.domain.model import AWAITING_PAYMENT, LineRequest, Order, OrderStatus
from subgraphs.orders.domain.transitions import Command, next_status
from subgraphs.orders.service.changes import MAX_ATTEMPTS, OrderWriter, order_cloud_event
from subgraphs.orders.service.ports import OrderStore, StockClient
from subgraphs.orders.service.reads import check_access, load_order

log = logging.getLogger(__name__)


@dataclass(eq=False)
class OrderUpdates:
    store: OrderStore
    stock: StockClient
    writer: OrderWriter

    async def update_order(
        self, identity: Identity, order_id: str, lines: Sequence[LineRequest]
    ) -> Order:
        require_account(identity)
        wanted = normalize_lines(lines)
        order = await load_order(self.store, order_id)
        check_access(identity, order)
        reserving = False
        try:
            for _ in range(MAX_ATTEMPTS):
                next_status(order.id, order.status, Command.UPDATE)
                reserving = True  # from here on, items may hold these lines whatever happens
                priced = await self.stock.reserve(order.id, wanted)
                currency = single_currency(priced)
                now = self.writer.clock()
                updated = order.moved_to(OrderStatus.PENDING_PAYMENT, now, "lines changed")
                updated = replace(updated, lines=tuple(priced), currency=currency)
                event = order_cloud_event(OrderUpdated(updated, order.status), now)
                if await self.writer.write(order, updated, event, replace_lines=True):
                    return updated
                order = await load_order(self.store, order_id)
                if order.status not in AWAITING_PAYMENT:
                    # Paid or cancelled meanwhile: it keeps its lines; refusing below says why.
                    next_status(order.id, order.status, Command.UPDATE)
            raise Conflict(f"Order {order_id} is changing too often; try again.")
        except BaseException:
            if reserving:
                await asyncio.shield(self._restore_reservation(order_id))
            raise

    async def _restore_reservation(self, order_id: str) -> None:
        """After an update that may have reserved its lines but did not store them (or cannot
        tell): hold the stored lines again while the order awaits payment (read at SERIAL,
        so a write of ours that did apply is seen and its lines kept). A paid order needs
        nothing (items commits the lines of ``order.paid``), nor a cancelled one (items
        releases on ``order.cancelled``)."""
        try:
            order = await self.store.get(order_id, serial=True)
            if order is None or order.status not in AWAITING_PAYMENT:
                return
            kept = [LineRequest(line.item_id, line.quantity) for line in order.lines]
            await self.stock.reserve(order_id, kept)
        except Exception:
            log.error(
                "could not restore the reservation of an order whose update failed; items "
                "holds other lines until the order is paid or cancelled",
                extra={"order_id": order_id},
                exc_info=True,
            )
