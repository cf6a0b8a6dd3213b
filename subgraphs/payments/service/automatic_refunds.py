"""Refunds nobody asks for by hand: the money of a cancelled order, and a payment orders
refused because its amount no longer matched the order's total.

* A paid order that is cancelled is refunded once (system key ``auto-refund:<orderId>``),
  whether the ``order.cancelled`` event or the end of a charge that raced the cancellation
  comes second, and a periodic sweep catches a refund that failed at the time.
* ``order.payment_refused`` (orders moved to the order's new total while a payment of the old
  one was in flight): the payment's whole remaining capture is refunded once (system key
  ``refused:<paymentId>``), and the order's charge claim is freed in the same transaction that
  reserves the refund, so the customer can pay the new total. See docs/payments.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from subgraphs.payments.domain.idempotency import IdempotencyRecord, RequestInProgress
from subgraphs.payments.domain.model import Payment
from subgraphs.payments.domain.orders import CANCELLED
from subgraphs.payments.service.idempotency import IdempotencyKeys
from subgraphs.payments.service.ports import CancellationStore, Orders, PaymentStore
from subgraphs.payments.service.refunds import Refunds

log = logging.getLogger(__name__)

SYSTEM_CALLER = "service:payments"


@dataclass(eq=False, kw_only=True)
class AutomaticRefunds:
    payments: PaymentStore
    cancellations: CancellationStore
    keys: IdempotencyKeys
    refunds: Refunds
    orders: Orders
    clock: Callable[[], datetime]

    async def order_cancelled(self, order_id: str, event_id: str) -> Payment | None:
        """The ``order.cancelled`` consumer: records the cancellation (committed first, for a
        charge still in flight to find), then refunds whatever the order has captured."""
        await self.cancellations.record(order_id, event_id, self.clock())
        return await self.refund_order(order_id)

    async def refund_order(self, order_id: str) -> Payment | None:
        """Refunds what remains of the order's captured payment, once per order. A refund of
        it left in flight by an earlier try is sent again (same key: made once)."""
        attempts = (await self.payments.for_orders([order_id])).get(order_id, [])
        paid = [p for p in attempts if p.holds_money]
        if not paid:
            return None
        payment = paid[-1]
        params = {"paymentId": payment.id, "amount": None}

        async def work(attempt: IdempotencyRecord) -> Payment:
            return await self.refunds.run(attempt, payment.id, None)

        key = f"auto-refund:{order_id}"
        return await self.keys.run(SYSTEM_CALLER, key, "refundPayment", params, work)

    async def refund_if_cancelled_meanwhile(self, payment: Payment) -> None:
        """A charge that lands on an order cancelled while it ran is given back at once (the
        ``order.cancelled`` consumer does the same; the shared key makes it happen once).

        Called after the success is committed. The consumer's local record comes first (no
        network: it commits that record before looking for a captured payment, so one of the
        two sides always sees the other); the orders service is asked only when there is none.
        """
        try:
            if await self.cancellations.is_cancelled(payment.order_id) or (
                (await self.orders.get(payment.order_id)).status == CANCELLED
            ):
                await self.refund_order(payment.order_id)
        except RequestInProgress:
            pass  # the consumer is refunding it right now
        except Exception:
            log.warning(
                "could not refund a charge on an order cancelled meanwhile",
                exc_info=True,
                extra={"order_id": payment.order_id},
            )

    async def refund_cancelled_orders(self) -> int:
        """The periodic sweep: refunds cancelled orders that still hold money (a refund that
        failed or was cut short when the charge or the event was handled). Returns how many."""
        done = 0
        for order_id in await self.cancellations.still_captured():
            try:
                if await self.refund_order(order_id) is not None:
                    done += 1
            except Exception:
                log.warning("sweep could not refund", exc_info=True, extra={"order_id": order_id})
        return done

    async def payment_refused(self, order_id: str, payment_id: str) -> Payment | None:
        """The ``order.payment_refused`` consumer: gives back all that remains of the payment
        and frees the order for a payment of its new total. A redelivery replays the first
        answer (the key ``refused:<paymentId>``) and changes nothing."""
        payment = await self.payments.get(payment_id)
        if payment is None or payment.order_id != order_id:
            log.error(
                "order.payment_refused names no payment of that order",
                extra={"order_id": order_id, "payment_id": payment_id},
            )
            return None
        params = {"paymentId": payment_id, "amount": None}

        async def work(attempt: IdempotencyRecord) -> Payment:
            return await self.refunds.run(attempt, payment_id, None, release_claim=True)

        key = f"refused:{payment_id}"
        return await self.keys.run(SYSTEM_CALLER, key, "refundPayment", params, work)
