"""What payments needs to know about an order, and the rules for paying one."""

from __future__ import annotations

from dataclasses import dataclass

from shopkit.errors import Conflict, NotFound
from shopkit.money import Money

PAYABLE_STATUSES = frozenset({"PENDING_PAYMENT", "PAYMENT_FAILED"})
CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class OrderView:
    id: str
    status: str
    customer_id: str
    total: Money

    def check_payable_by(self, account_id: str) -> None:
        """Raises unless ``account_id`` owns this order and it awaits payment."""
        if self.customer_id != account_id:
            # Not "forbidden": another customer's order must look like no order at all.
            raise NotFound("No such order.", orderId=self.id)
        if self.status not in PAYABLE_STATUSES:
            raise Conflict(
                f"This order cannot be paid: it is {self.status}.",
                orderId=self.id,
                orderStatus=self.status,
            )
        if self.total.amount <= 0:
            raise Conflict("This order has nothing to pay.", orderId=self.id)
