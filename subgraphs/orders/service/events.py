"""The events an order emits: CloudEvents on ``shop.order`` keyed by the order id.

Each event's id is a time-based UUID (v1): it is also the clustering key of the event's row
in the order's partition, so the outbox keeps events in the order they were written. Every
event is checked against its JSON Schema in ``events/schemas`` before it is stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from shopkit.events import CloudEvent
from shopkit.events.schemas import EventSchemas
from subgraphs.orders.domain.model import Money, Order, OrderStatus
from subgraphs.orders.domain.transitions import PAYMENT_REFUSED

SOURCE = "shop/orders"
SCHEMAS = EventSchemas(Path(__file__).resolve().parent.parent / "events" / "schemas")


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def order_data(
    order: Order, previous: OrderStatus | None, reason: str | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "orderId": order.id,
        "customerId": order.customer_id,
        "status": order.status.value,
        "previousStatus": previous.value if previous is not None else None,
        "lines": [
            {
                "itemId": line.item_id,
                "quantity": line.quantity,
                "unitPrice": _money(line.unit_price.amount, line.unit_price.currency),
            }
            for line in order.lines
        ],
        "total": _money(order.total.amount, order.total.currency),
    }
    if reason is not None:
        data["reason"] = reason
    return data


def _event(event_type: str, order: Order, at: datetime, data: dict[str, Any]) -> CloudEvent:
    event = CloudEvent(
        id=str(uuid.uuid1()),
        source=SOURCE,
        type=event_type,
        subject=order.id,
        time=at.isoformat(),
        data=data,
    )
    SCHEMAS.validate(event)
    return event


def order_event(
    event_type: str,
    order: Order,
    at: datetime,
    previous: OrderStatus | None,
    reason: str | None = None,
) -> CloudEvent:
    return _event(event_type, order, at, order_data(order, previous, reason))


def payment_refused_event(
    order: Order, at: datetime, payment_id: str, charged: Money, reason: str
) -> CloudEvent:
    """``order.payment_refused``: what the payment charged and the total it did not match."""
    data = {
        "orderId": order.id,
        "customerId": order.customer_id,
        "paymentId": payment_id,
        "amount": _money(charged.amount, charged.currency),
        "total": _money(order.total.amount, order.total.currency),
        "reason": reason,
    }
    return _event(PAYMENT_REFUSED, order, at, data)
