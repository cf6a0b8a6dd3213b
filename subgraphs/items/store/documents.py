"""The MongoDB documents (odmantic models) and their conversion to domain objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pymongo
from bson import ObjectId
from odmantic import Field, Index, Model

from subgraphs.items.domain.model import Item, Money
from subgraphs.items.domain.reservation import Reservation, ReservationLine, ReservationStatus


def now() -> datetime:
    return datetime.now(UTC)


class ItemDoc(Model):
    model_config = {"collection": "items", "indexes": lambda: [Index(ItemDoc.upc, unique=True)]}

    upc: str
    name: str
    description: str = ""
    price_amount: int
    price_currency: str
    image_urls: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    available: int = 0
    reserved: int = 0
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)

    def to_domain(self) -> Item:
        return Item(
            id=str(self.id),
            upc=self.upc,
            name=self.name,
            description=self.description,
            unit_price=Money(self.price_amount, self.price_currency),
            image_urls=list(self.image_urls),
            attributes=dict(self.attributes),
            available=self.available,
            reserved=self.reserved,
        )


class ReservationDoc(Model):
    """One per order (the order id is the primary key). ``version`` guards every write."""

    model_config = {"collection": "reservations"}

    order_id: str = Field(primary_field=True)
    status: str
    lines: list[dict[str, Any]] = Field(default_factory=list)
    version: int = 0
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)

    def to_domain(self) -> Reservation:
        return Reservation(
            order_id=self.order_id,
            status=ReservationStatus(self.status),
            lines=[
                ReservationLine(
                    item_id=line["item_id"],
                    name=line["name"],
                    upc=line["upc"],
                    quantity=line["quantity"],
                    unit_price=Money(line["price_amount"], line["price_currency"]),
                )
                for line in self.lines
            ],
        )


def line_doc(line: ReservationLine) -> dict[str, Any]:
    return {
        "item_id": line.item_id,
        "name": line.name,
        "upc": line.upc,
        "quantity": line.quantity,
        "price_amount": line.unit_price.amount,
        "price_currency": line.unit_price.currency,
    }


class OutboxDoc(Model):
    """An event waiting for the relay; the primary key is the event id."""

    model_config = {
        "collection": "outbox",
        "indexes": lambda: [pymongo.IndexModel([("published_at", 1), ("seq", 1)])],
    }

    event_id: str = Field(primary_field=True)
    seq: ObjectId = Field(default_factory=ObjectId)
    type: str
    topic: str
    key: str
    value: str
    created_at: datetime = Field(default_factory=now)
    published_at: datetime | None = None


class InboxDoc(Model):
    """An event a consumer group has handled (``<group>:<event id>``)."""

    model_config = {"collection": "inbox"}

    key: str = Field(primary_field=True)
    consumer: str
    event_id: str
    handled_at: datetime = Field(default_factory=now)
