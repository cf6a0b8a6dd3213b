"""The payments service: the one object the GraphQL layer, the consumers and the app's jobs
call. Each concern lives in its own module, found by name:

* ``reads.py``              ``payment``, ``paymentsForOrder``, ``Order.payment(s)``
* ``charges.py``            ``submitPayment`` (pay), ``updatePayment`` (pay again)
* ``refunds.py``            ``refundPayment``; reserve, ask the processor, record
* ``automatic_refunds.py``  cancelled orders, refused payments, the refund sweep
* ``reconciliation.py``     charges and refunds whose outcome was lost, settled at the processor
* ``idempotency.py``        who does the work of an idempotency key, what repeats get
* ``money_movement.py``     what charges and refunds both work with
* ``ports.py``              what all of these need from the outside

The design (the claim, the refund reservation, the reconciliation, the refused payment) is
written down in docs/payments.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from shopkit.processor import PaymentProcessor
from subgraphs.payments.service.automatic_refunds import AutomaticRefunds
from subgraphs.payments.service.charges import Charges
from subgraphs.payments.service.idempotency import IdempotencyKeys
from subgraphs.payments.service.ports import Accounts, CancellationStore, Orders, PaymentStore
from subgraphs.payments.service.reads import PaymentReads
from subgraphs.payments.service.reconciliation import Reconciliation
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

        # Each call the API layer, the consumers and the app's periodic jobs make, and the
        # concern that answers it.
        self.get = self.reads.get
        self.for_orders = self.reads.for_orders
        self.find = self.reads.find
        self.pay = self.charges.pay
        self.pay_again = self.charges.pay_again
        self.refund = self.refunds.refund
        self.order_cancelled = self.automatic_refunds.order_cancelled
        self.payment_refused = self.automatic_refunds.payment_refused
        self.refund_cancelled_orders = self.automatic_refunds.refund_cancelled_orders
        self.reconcile = self.reconciliation.run
