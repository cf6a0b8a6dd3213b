"""The payments service: the one object the GraphQL layer, the consumers and the app's jobs
call. Each concern lives in its own module, found by name:

* ``reads.py``              ``payment``, ``paymentsForOrder``, ``Order.payment(s)``
* ``charges.py``            ``submitPayment`` (pay), ``updatePayment`` (pay again)
* ``refunds.py``            ``refundPayment``; reserve, ask the processor, record
* ``automatic_refunds.py``  cancelled orders, refused payments, the refund sweep
* ``reconciliation.py``     charges and refunds whose outcome was lost, settled at the processor
* ``idempotency.py``        who does the work of an idempotency key, what repeats get
* ``ports.py``              what all of these need from the outside

The design (the claim, the refund reservation, the reconciliation, the refused payment) is
written down in docs/payments.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from shopkit.auth import Identity
from shopkit.processor import PaymentProcessor
from subgraphs.payments.domain.model import Payment
from subgraphs.payments.service.automatic_refunds import AutomaticRefunds
from subgraphs.payments.service.charges import Charges
from subgraphs.payments.service.idempotency import IdempotencyKeys
from subgraphs.payments.service.inputs import CardInput
from subgraphs.payments.service.ports import Accounts, CancellationStore, Orders, PaymentStore
from subgraphs.payments.service.reads import PaymentReads
from subgraphs.payments.service.reconciliation import Reconciled, Reconciliation
from subgraphs.payments.service.refunds import Refunds

DEFAULT_GRACE = timedelta(minutes=5)


class PaymentService:
    def __init__(
        self,
        *,
        payments: PaymentStore,
        cancellations: CancellationStore,
        keys: IdempotencyKeys,
        processor: PaymentProcessor,
        orders: Orders,
        accounts: Accounts,
        notify: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        unknown_outcome_grace: timedelta = DEFAULT_GRACE,
    ) -> None:
        self.keys = keys
        self.cancellations = cancellations
        self.reads = PaymentReads(payments)
        self.refunds = Refunds(
            payments=payments,
            keys=keys,
            processor=processor,
            orders=orders,
            notify=notify,
            clock=clock,
        )
        self.automatic_refunds = AutomaticRefunds(
            payments=payments,
            cancellations=cancellations,
            keys=keys,
            refunds=self.refunds,
            orders=orders,
            clock=clock,
        )
        self.charges = Charges(
            payments=payments,
            keys=keys,
            processor=processor,
            orders=orders,
            accounts=accounts,
            automatic_refunds=self.automatic_refunds,
            notify=notify,
            clock=clock,
        )
        self.reconciliation = Reconciliation(
            payments=payments,
            processor=processor,
            charges=self.charges,
            refunds=self.refunds,
            grace=unknown_outcome_grace,
            clock=clock,
        )

    # -- the GraphQL API ------------------------------------------------------------------

    async def get(self, identity: Identity, payment_id: str) -> Payment:
        return await self.reads.get(identity, payment_id)

    async def for_orders(
        self, identity: Identity, order_ids: list[str]
    ) -> dict[str, list[Payment]]:
        return await self.reads.for_orders(identity, order_ids)

    async def find(self, identity: Identity, payment_id: str) -> Payment | None:
        return await self.reads.find(identity, payment_id)

    async def pay(
        self,
        identity: Identity,
        *,
        order_id: str,
        idempotency_key: str,
        card: CardInput | None = None,
        payment_method_id: str | None = None,
    ) -> Payment:
        return await self.charges.pay(
            identity,
            order_id=order_id,
            idempotency_key=idempotency_key,
            card=card,
            payment_method_id=payment_method_id,
        )

    async def pay_again(
        self,
        identity: Identity,
        *,
        payment_id: str,
        idempotency_key: str,
        card: CardInput | None = None,
        payment_method_id: str | None = None,
    ) -> Payment:
        return await self.charges.pay_again(
            identity,
            payment_id=payment_id,
            idempotency_key=idempotency_key,
            card=card,
            payment_method_id=payment_method_id,
        )

    async def refund(
        self,
        identity: Identity,
        *,
        payment_id: str,
        idempotency_key: str,
        amount: int | None = None,
    ) -> Payment:
        return await self.refunds.refund(
            identity, payment_id=payment_id, idempotency_key=idempotency_key, amount=amount
        )

    # -- the consumers ---------------------------------------------------------------------

    async def order_cancelled(self, order_id: str, event_id: str) -> Payment | None:
        return await self.automatic_refunds.order_cancelled(order_id, event_id)

    async def payment_refused(self, order_id: str, payment_id: str) -> Payment | None:
        return await self.automatic_refunds.payment_refused(order_id, payment_id)

    # -- the app's periodic jobs -------------------------------------------------------------

    async def refund_cancelled_orders(self) -> int:
        return await self.automatic_refunds.refund_cancelled_orders()

    async def reconcile(self) -> Reconciled:
        return await self.reconciliation.run()
