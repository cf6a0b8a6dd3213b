"""The events an order emits, past-tense records keyed by the order, with the ``data`` each
carries (``events/schemas/<type>.json``).

Every status change announces the order as it now is (``OrderStatusChanged``: its lines,
total, status and the status before); which event a change announces depends on the status
it leads to (``ANNOUNCES``), except an update of the lines (``OrderUpdated``). A payment the
order refused (it charged other than the total) is ``OrderPaymentRefused``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .model import Money, Order, OrderStatus

PRODUCER = "orders"


def _money(money: Money) -> dict[str, Any]:
    return {"amount": money.amount, "currency": money.currency}


@dataclass(frozen=True)
class OrderStatusChanged:
    type: ClassVar[str]
    order: Order
    previous: OrderStatus | None
    reason: str | None = None

    @property
    def aggregate_id(self) -> str:
        return self.order.id

    def data(self) -> dict[str, Any]:
        order = self.order
        data: dict[str, Any] = {
            "orderId": order.id,
            "customerId": order.customer_id,
            "status": order.status.value,
            "previousStatus": self.previous.value if self.previous is not None else None,
            "lines": [
                {
                    "itemId": line.item_id,
                    "quantity": line.quantity,
                    "unitPrice": _money(line.unit_price),
                }
                for line in order.lines
            ],
            "total": _money(order.total),
        }
        if self.reason is not None:
            data["reason"] = self.reason
        return data


class OrderCreated(OrderStatusChanged):
    type = "order.created"


class OrderUpdated(OrderStatusChanged):
    type = "order.updated"


class OrderPaid(OrderStatusChanged):
    type = "order.paid"


class OrderPaymentFailed(OrderStatusChanged):
    type = "order.payment_failed"


class OrderCancelled(OrderStatusChanged):
    type = "order.cancelled"


class OrderCompleted(OrderStatusChanged):
    type = "order.completed"


class OrderRefunded(OrderStatusChanged):
    type = "order.refunded"


@dataclass(frozen=True)
class OrderPaymentRefused:
    """What the payment charged and the total it did not match: payments refunds it."""

    type: ClassVar[str] = "order.payment_refused"
    order: Order
    payment_id: str
    charged: Money
    reason: str

    @property
    def aggregate_id(self) -> str:
        return self.order.id

    def data(self) -> dict[str, Any]:
        return {
            "orderId": self.order.id,
            "customerId": self.order.customer_id,
            "paymentId": self.payment_id,
            "amount": _money(self.charged),
            "total": _money(self.order.total),
            "reason": self.reason,
        }


# The event each target status announces (an update keeps or restores PENDING_PAYMENT and
# announces OrderUpdated instead).
ANNOUNCES: dict[OrderStatus, type[OrderStatusChanged]] = {
    OrderStatus.PENDING_PAYMENT: OrderCreated,
    OrderStatus.PAID: OrderPaid,
    OrderStatus.PAYMENT_FAILED: OrderPaymentFailed,
    OrderStatus.CANCELLED: OrderCancelled,
    OrderStatus.COMPLETED: OrderCompleted,
    OrderStatus.REFUNDED: OrderRefunded,
}

PRODUCES = tuple(
    sorted({*(e.type for e in ANNOUNCES.values()), OrderUpdated.type, OrderPaymentRefused.type})
)
