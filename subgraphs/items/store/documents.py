"""The MongoDB documents (odmantic models) and their conversion to domain objects. The outbox
and inbox documents are the kit's (``shopkit.events.store.mongo``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pymongo
from odmantic import Field, Index, Model

from shopkit.money import Money
from subgraphs.items.domain.model import Item
from subgraphs.items.domain.reservation import Reservation, ReservationLine, ReservationStatus


def now() -> datetime:
    return datetime.now(UTC)


class ItemDoc(Model):
    """An item and its stock counters. ``pending`` lists the stock moves of reservation
    changes still in flight (``{id, order, available, reserved, at}``): written by the same
    atomic update as the counters, it makes each move idempotent and lets a crashed change
    be undone exactly (see ``store/reservations.py``)."""

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
    # Every unit the shop ever received: the initial stock plus each restock. The service does
    # not read it; the books reconcile against it (received = available + held + sold).
    received: int = 0
    pending: list[dict[str, Any]] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)


# What a catalog read needs of an item document: all of it but the stock moves in flight.
ITEM_FIELDS = {"pending": False}


def item_from_doc(raw: Mapping[str, Any]) -> Item:
    """The domain item of a stored item document as the driver reads it, not validated again
    through ItemDoc (every write of it was): odmantic's find and parsing took 2.2 ms of the
    items process's CPU per page of 20 items, a plain find and this 1.2 ms."""
    return Item(
        id=str(raw["_id"]),
        upc=raw["upc"],
        name=raw["name"],
        description=raw.get("description", ""),
        unit_price=Money(raw["price_amount"], raw["price_currency"]),
        image_urls=list(raw.get("image_urls", ())),
        attributes=dict(raw.get("attributes", {})),
        available=raw.get("available", 0),
        reserved=raw.get("reserved", 0),
    )


def item_or_none(raw: Mapping[str, Any] | None) -> Item | None:
    """``item_from_doc`` of what a find or a find-and-modify returned; None if it found none."""
    return item_from_doc(raw) if raw is not None else None


class ReservationDoc(Model):
    """One per order (the order id is the primary key). ``version`` counts the finished
    changes (0: the first change is still in flight, so the reservation does not exist yet).
    ``change`` is the change in flight, at most one per order: its id, the items it moves,
    its state (``applying``, ``rolling_back``, ``finished``) and, once finished, the outbox
    document of the event that describes it, copied to the outbox before ``change`` is
    cleared. ``review_at`` is when the orphan-hold sweep next asks orders about a held
    reservation."""

    model_config = {
        "collection": "reservations",
        "indexes": lambda: [
            pymongo.IndexModel([("change.at", 1)], name="change_at"),
            pymongo.IndexModel([("status", 1), ("review_at", 1)], name="status_review_at"),
        ],
    }

    order_id: str = Field(primary_field=True)
    status: str
    lines: list[dict[str, Any]] = Field(default_factory=list)
    version: int = 0
    change: dict[str, Any] | None = None
    review_at: datetime | None = None
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)

    def exists(self) -> bool:
        """False while the order's first change is in flight (it may yet be rolled back)."""
        change = self.change or {}
        return not (change.get("first") and change.get("state") != "finished")

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
