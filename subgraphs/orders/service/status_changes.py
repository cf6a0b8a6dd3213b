"""Cancelling, completing and expiring an order: the status commands of
``domain/transitions.py``.

A cancelled order's stock is released by items when it consumes ``order.cancelled`` (no
direct call: the event is already guaranteed by the outbox, and ``releaseStock`` is
idempotent should both ever happen). The sweep that decides which unpaid orders expire is
``unpaid.py``.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from datetime import timedelta

from shopkit.auth import Identity, require_account, require_admin
from shopkit.errors import Conflict, InvalidInput
from subgraphs.orders.domain.model import AWAITING_PAYMENT, MAX_REASON, Order, OrderStatus
from subgraphs.orders.domain.transitions import Command, next_status
from subgraphs.orders.service.changes import MAX_ATTEMPTS, OrderWriter
from subgraphs.orders.service.ports import OrderStore
from subgraphs.orders.service.reads import check_access, load_order

EXPIRED_REASON = "payment window expired"


@dataclass(eq=False)
class StatusChanges:
    store: OrderStore
    writer: OrderWriter
    _: KW_ONLY
    payment_window: timedelta

    async def cancel_order(
        self, identity: Identity, order_id: str, reason: str | None = None
    ) -> Order:
        require_account(identity)
        order = await load_order(self.store, order_id)
        check_access(identity, order)
        who = "admin" if identity.is_admin else "service" if identity.is_service else "customer"
        reason = (reason or "").strip()
        if len(reason) > MAX_REASON:
            raise InvalidInput(f"The reason is longer than {MAX_REASON} characters.")
        reason = reason or f"cancelled by the {who}"
        return await self._command(order, Command.CANCEL, reason)

    async def complete_order(self, identity: Identity, order_id: str) -> Order:
        require_admin(identity)
        return await self._command(await load_order(self.store, order_id), Command.COMPLETE, None)

    async def _command(self, order: Order, command: Command, reason: str | None) -> Order:
        for _ in range(MAX_ATTEMPTS):
            target = next_status(order.id, order.status, command)
            changed = await self.writer.apply(order, target, reason)
            if changed is not None:
                return changed
            order = await load_order(self.store, order.id)
        raise Conflict(f"Order {order.id} is changing too often; try again.")

    async def expire(self, order: Order) -> Order | None:
        """Cancels ``order`` as it was read, if it is still unpaid past the payment window
        and nobody changed it since; None otherwise (the sweep looks again next time)."""
        if order.status not in AWAITING_PAYMENT:
            return None
        if order.created_at > self.writer.clock() - self.payment_window:
            return None
        return await self.writer.apply(order, OrderStatus.CANCELLED, EXPIRED_REASON)
