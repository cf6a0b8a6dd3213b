"""The sweep of unpaid orders: reconcile them with payments, then expire what is left.

Payment events can be lost or parked (a consumer gave up, a broker lost them), and a payment
whose outcome is unknown may still capture money. So the sweep never relies on events alone:
for every order still awaiting payment a while after it was placed (``reconcile_after``), it
asks payments what it knows of the order's attempts (in batches, with the service token) and
``domain.payments.settle`` decides:

* a succeeded payment holding exactly the total, whose event never arrived: the order is made
  PAID as if the event had come (the payment is recorded as decided, so the event arriving
  later changes nothing);
* a succeeded payment holding another amount, not yet decided: it is refused
  (``order.payment_refused``), and payments refunds it;
* a payment pending, of a status this service does not know, or still holding money (being
  refunded): the order is left as it is;
* nothing in flight and nothing captured: an order past the payment window is cancelled
  (only if it did not change since it was read, so a payment applied meanwhile wins).

When payments cannot be asked, nothing is cancelled: the next sweep asks again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import KW_ONLY, dataclass
from datetime import timedelta

from subgraphs.orders.domain.model import AWAITING_PAYMENT, Order
from subgraphs.orders.domain.payments import PaymentAttempt, Settlement, settle
from subgraphs.orders.domain.transitions import PaymentOutcome
from subgraphs.orders.service.orders import OrderService
from subgraphs.orders.service.ports import OrderStore, PaymentsView

log = logging.getLogger(__name__)

BATCH = 50


@dataclass
class SweepResult:
    paid: int = 0
    refused: int = 0
    expired: int = 0
    waiting: int = 0
    unanswered: int = 0

    def __bool__(self) -> bool:
        return any(vars(self).values())


@dataclass(eq=False)
class UnpaidOrders:
    orders: OrderService
    payments: PaymentsView
    _: KW_ONLY
    reconcile_after: timedelta = timedelta(seconds=60)
    batch: int = BATCH

    @property
    def store(self) -> OrderStore:
        """The orders' own store: the sweep reads and updates the same rows they do."""
        return self.orders.store

    async def sweep(self) -> SweepResult:
        result = SweepResult()
        cutoff = self.orders.clock() - self.reconcile_after
        ids = await self.store.awaiting_payment_since(cutoff)
        for start in range(0, len(ids), self.batch):
            await self._sweep_batch(ids[start : start + self.batch], result)
        return result

    async def _sweep_batch(self, ids: list[str], result: SweepResult) -> None:
        found = await asyncio.gather(*(self.store.get(i) for i in ids))
        unpaid: list[Order] = []
        for order in found:
            if order is None:
                continue
            if order.status in AWAITING_PAYMENT:
                unpaid.append(order)
            else:
                await self.store.forget_awaiting(order)
        if not unpaid:
            return
        try:
            attempts = await self.payments.attempts([o.id for o in unpaid])
        except Exception:
            log.warning(
                "payments could not be asked about unpaid orders; none is cancelled",
                extra={"count": len(unpaid)},
                exc_info=True,
            )
            result.unanswered += len(unpaid)
            return
        for order in unpaid:
            try:
                await self._settle(order, attempts.get(order.id, []), result)
            except Exception:
                log.warning(
                    "could not settle an unpaid order", extra={"id": order.id}, exc_info=True
                )

    async def _settle(
        self, order: Order, attempts: list[PaymentAttempt], result: SweepResult
    ) -> None:
        action, attempt = settle(order, attempts)
        if action in (Settlement.PAY, Settlement.REFUSE):
            assert attempt is not None
            changed = await self.orders.apply_payment(
                None,
                PaymentOutcome.SUCCEEDED,
                order.id,
                payment_id=attempt.id,
                amount=attempt.net,
            )
            if changed and action is Settlement.PAY:
                result.paid += 1
                log.warning(
                    "paid an order whose payment event never arrived",
                    extra={"order_id": order.id, "payment_id": attempt.id},
                )
            elif changed:
                result.refused += 1
        elif action is Settlement.WAIT:
            result.waiting += 1
        elif (expired := await self.orders.expire(order)) is not None:
            result.expired += 1
            await self.store.forget_awaiting(expired)
