"""The events items produces: their types and the ``data`` each carries."""

from __future__ import annotations

from typing import Any

from subgraphs.items.domain.model import Item, Money
from subgraphs.items.domain.reservation import Reservation

ITEM_CREATED = "item.created"
ITEM_UPDATED = "item.updated"
ITEM_DELETED = "item.deleted"
INVENTORY_RESERVED = "inventory.reserved"
INVENTORY_RELEASED = "inventory.released"
INVENTORY_COMMITTED = "inventory.committed"
PRODUCED = [
    ITEM_CREATED,
    ITEM_UPDATED,
    ITEM_DELETED,
    INVENTORY_RESERVED,
    INVENTORY_RELEASED,
    INVENTORY_COMMITTED,
]

ORDER_CANCELLED = "order.cancelled"
ORDER_PAID = "order.paid"


_CAMEL = {"unit_price": "unitPrice", "image_urls": "imageUrls"}


def money_data(money: Money) -> dict[str, Any]:
    return {"amount": money.amount, "currency": money.currency}


def item_data(item: Item, changed: list[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "itemId": item.id,
        "upc": item.upc,
        "name": item.name,
        "description": item.description,
        "unitPrice": money_data(item.unit_price),
        "imageUrls": list(item.image_urls),
        "attributes": dict(item.attributes),
        "available": item.available,
    }
    if changed is not None:
        data["changed"] = sorted(_CAMEL.get(name, name) for name in changed)
    return data


def item_deleted_data(item: Item) -> dict[str, Any]:
    return {"itemId": item.id, "upc": item.upc}


def reservation_data(reservation: Reservation) -> dict[str, Any]:
    return {
        "orderId": reservation.order_id,
        "status": reservation.status.value,
        "lines": [
            {
                "itemId": line.item_id,
                "name": line.name,
                "upc": line.upc,
                "quantity": line.quantity,
                "unitPrice": money_data(line.unit_price),
            }
            for line in reservation.lines
        ],
    }
