"""What a payment's outcome does to its order: ``payment.succeeded``, ``payment.failed`` and
``payment.refunded`` events, and succeeded payments the sweep of unpaid orders found whose
event never arrived (``unpaid.py``).

A succeeded payment pays the order only if it charged exactly its total, else it is refused
(``domain/payments.py``): the order keeps its status and ``order.payment_refused`` tells
payments to refund it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from shopkit.errors import Conflict, InvalidInput
from subgraphs.orders.domain.events import OrderPaymentRefused
from subgraphs.orders.domain.model import Money, Order
from subgraphs.orders.domain.payments import payment_mark, pays_for, refusal_reason
from subgraphs.orders.domain.transitions import PaymentOutcome, after_payment
from subgraphs.orders.service.changes import MAX_ATTEMPTS, OrderWriter, order_cloud_event
from subgraphs.orders.service.ports import OrderStore

log = logging.getLogger(__name__)


@dataclass(eq=False)
class PaymentOutcomes:
    store: OrderStore
    writer: OrderWriter

    async def apply_payment(
        self,
        event_id: str | None,
        outcome: PaymentOutcome,
        order_id: str,
        *,
        payment_id: str | None = None,
        amount: Money | None = None,
    ) -> bool:
        """Applies a payment event once, or (``event_id`` None) a succeeded payment the
        sweep found whose event never arrived; returns whether the order changed.

        A succeeded payment needs its id and amount: it pays the order only if it charged
        exactly the order's total, and is refused otherwise. The decision, the event id and
        the payment's mark are written in the same conditional batch, so each payment is
        decided once however often and by whichever path it arrives.
        """
        applied = {event_id} if event_id else set()
        charged: Money | None = None
        if outcome is PaymentOutcome.SUCCEEDED:
            if payment_id is None or amount is None:
                raise InvalidInput("A succeeded payment needs its payment id and amount.")
            applied.add(payment_mark(payment_id))
            charged = amount
        marks = frozenset(applied)
        for _ in range(MAX_ATTEMPTS):
            order = await self.store.get(order_id)
            if order is None:
                log.warning("payment event for an unknown order", extra={"order_id": order_id})
                return False
            if marks & order.applied_events:
                return False
            target = after_payment(order.status, outcome)
            if target is None:
                log.info(
                    "payment event changes nothing",
                    extra={"order_id": order_id, "status": order.status.value},
                )
                return False
            if charged is not None and payment_id is not None and not pays_for(order, charged):
                changed = await self._refuse(order, payment_id, charged, marks)
            else:
                reason = f"{outcome.value} ({event_id or f'payment {payment_id}, reconciled'})"
                changed = await self.writer.apply(order, target, reason, marks)
            if changed is not None:
                return True
        raise Conflict(f"Order {order_id} is changing too often; the event will be retried.")

    async def _refuse(
        self, order: Order, payment_id: str, charged: Money, marks: frozenset[str]
    ) -> Order | None:
        """Refuses a payment that charged other than the order's total: the status stays,
        a history entry says why, and ``order.payment_refused`` tells payments to refund it."""
        now = self.writer.clock()
        why = refusal_reason(order, charged)
        changed = order.moved_to(order.status, now, f"payment {payment_id} refused: {why}")
        changed = replace(changed, applied_events=order.applied_events | marks)
        event = order_cloud_event(OrderPaymentRefused(changed, payment_id, charged, why), now)
        if not await self.writer.write(order, changed, event, marks):
            return None
        log.warning(
            "refused a payment that does not match the order's total",
            extra={"order_id": order.id, "payment_id": payment_id},
        )
        return changed
