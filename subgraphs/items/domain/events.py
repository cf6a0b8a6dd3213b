"""The events items produces, past-tense records of what happened to an item (keyed by the
item) or to an order's stock reservation (keyed by the order), with the ``data`` each carries
(``events/schemas/<type>.json``); and the types of the orders events it consumes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from subgraphs.items.domain.model import Item, Money
from subgraphs.items.domain.reservation import Reservation

PRODUCER = "items"

ORDER_CANCELLED = "order.cancelled"
ORDER_PAID = "order.paid"

_CAMEL = {"unit_price": "unitPrice", "image_urls": "imageUrls"}


def money_data(money: Money) -> dict[str, Any]:
    return {"amount": money.amount, "currency": money.currency}


@dataclass(frozen=True)
class ItemEvent:
    type: ClassVar[str]
    item: Item

    @property
    def aggregate_id(self) -> str:
        return self.item.id

    def data(self) -> dict[str, Any]:
        item = self.item
        return {
            "itemId": item.id,
            "upc": item.upc,
            "name": item.name,
            "description": item.description,
            "unitPrice": money_data(item.unit_price),
            "imageUrls": list(item.image_urls),
            "attributes": dict(item.attributes),
            "available": item.available,
        }


class ItemCreated(ItemEvent):
    type = "item.created"


@dataclass(frozen=True)
class ItemUpdated(ItemEvent):
    type = "item.updated"
    changed: Sequence[str]  # the fields changed, by their domain names

    def data(self) -> dict[str, Any]:
        return {**super().data(), "changed": sorted(_CAMEL.get(n, n) for n in self.changed)}


class ItemDeleted(ItemEvent):
    type = "item.deleted"

    def data(self) -> dict[str, Any]:
        return {"itemId": self.item.id, "upc": self.item.upc}


@dataclass(frozen=True)
class ReservationEvent:
    type: ClassVar[str]
    reservation: Reservation

    @property
    def aggregate_id(self) -> str:
        return self.reservation.order_id

    def data(self) -> dict[str, Any]:
        reservation = self.reservation
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


class InventoryReserved(ReservationEvent):
    type = "inventory.reserved"


class InventoryReleased(ReservationEvent):
    type = "inventory.released"


class InventoryCommitted(ReservationEvent):
    type = "inventory.committed"


PRODUCES = tuple(
    event.type
    for event in (
        ItemCreated,
        ItemUpdated,
        ItemDeleted,
        InventoryReserved,
        InventoryReleased,
        InventoryCommitted,
    )
)
