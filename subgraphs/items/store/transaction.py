"""One MongoDB transaction as the service layer sees it: the writes of one use case and the
outbox rows describing them, committed together or not at all.

Stock counters only ever change through conditional ``$inc`` updates (``available >= q`` in
the filter), never by reading a value and writing it back; reservation documents carry a
``version`` so two transactions cannot both build on the same reservation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bson import ObjectId
from motor.motor_asyncio import AsyncIOMotorClientSession
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from shopkit.errors import Conflict
from shopkit.events import CloudEvent
from subgraphs.items.domain.model import Item, ItemChanges, NewItem
from subgraphs.items.domain.reservation import Reservation
from subgraphs.items.store.documents import (
    ItemDoc,
    OutboxDoc,
    ReservationDoc,
    line_doc,
    now,
)

if TYPE_CHECKING:
    from subgraphs.items.store.database import ItemsDatabase


class RetryTransaction(PyMongoError):
    """Another transaction changed what this one built on: run it again from the start."""


def _item(raw: dict[str, Any] | None) -> Item | None:
    return ItemDoc.model_validate_doc(raw).to_domain() if raw else None


def _duplicate_upc(upc: str) -> Conflict:
    return Conflict(f"An item with UPC {upc} already exists.", field="upc", upc=upc)


class Transaction:
    def __init__(self, db: ItemsDatabase, session: AsyncIOMotorClientSession) -> None:
        self.session = session
        self.items = db.collection(ItemDoc)
        self.reservations = db.collection(ReservationDoc)
        self.outbox = db.collection(OutboxDoc)

    async def get_item(self, item_id: str) -> Item | None:
        return _item(await self.items.find_one({"_id": ObjectId(item_id)}, session=self.session))

    async def insert_item(self, new: NewItem) -> Item:
        doc = ItemDoc(  # type: ignore[call-arg]  # the id has a default factory
            upc=new.upc,
            name=new.name,
            description=new.description,
            price_amount=new.unit_price.amount,
            price_currency=new.unit_price.currency,
            image_urls=new.image_urls,
            attributes=new.attributes,
            available=new.stock,
        )
        try:
            await self.items.insert_one(doc.model_dump_doc(), session=self.session)
        except DuplicateKeyError:
            raise _duplicate_upc(new.upc)
        return doc.to_domain()

    async def update_item(self, item_id: str, changes: ItemChanges) -> Item | None:
        fields = changes.fields()
        update: dict[str, Any] = {"updated_at": now()}
        for name in ("upc", "name", "description", "image_urls", "attributes"):
            if name in fields:
                update[name] = fields[name]
        if changes.unit_price is not None:
            update["price_amount"] = changes.unit_price.amount
            update["price_currency"] = changes.unit_price.currency
        try:
            raw = await self.items.find_one_and_update(
                {"_id": ObjectId(item_id)},
                {"$set": update},
                return_document=ReturnDocument.AFTER,
                session=self.session,
            )
        except DuplicateKeyError:
            raise _duplicate_upc(str(changes.upc))
        return _item(raw)

    async def delete_item(self, item_id: str) -> Item | None:
        raw = await self.items.find_one_and_delete({"_id": ObjectId(item_id)}, session=self.session)
        return _item(raw)

    async def _inc(self, filter_: dict[str, Any], inc: dict[str, int]) -> Item | None:
        raw = await self.items.find_one_and_update(
            filter_,
            {"$inc": inc, "$set": {"updated_at": now()}},
            return_document=ReturnDocument.AFTER,
            session=self.session,
        )
        return _item(raw)

    async def add_available(self, item_id: str, quantity: int) -> Item | None:
        return await self._inc({"_id": ObjectId(item_id)}, {"available": quantity})

    async def take_stock(self, item_id: str, quantity: int) -> Item | None:
        """Moves ``quantity`` from available to reserved if that many are available."""
        return await self._inc(
            {"_id": ObjectId(item_id), "available": {"$gte": quantity}},
            {"available": -quantity, "reserved": quantity},
        )

    async def return_stock(self, item_id: str, quantity: int) -> Item | None:
        """Moves ``quantity`` from reserved back to available (a deleted item: nothing)."""
        return await self._inc(
            {"_id": ObjectId(item_id), "reserved": {"$gte": quantity}},
            {"available": quantity, "reserved": -quantity},
        )

    async def consume_reserved(self, item_id: str, quantity: int) -> Item | None:
        """Removes ``quantity`` from reserved: those units are sold."""
        return await self._inc(
            {"_id": ObjectId(item_id), "reserved": {"$gte": quantity}},
            {"reserved": -quantity},
        )

    async def get_reservation(self, order_id: str) -> tuple[Reservation, int] | None:
        raw = await self.reservations.find_one({"_id": order_id}, session=self.session)
        if raw is None:
            return None
        doc = ReservationDoc.model_validate_doc(raw)
        return doc.to_domain(), doc.version

    async def save_reservation(self, reservation: Reservation, version: int | None) -> None:
        """Inserts (``version`` None) or replaces the reservation it was read as."""
        lines = [line_doc(line) for line in reservation.lines]
        fields = {"status": reservation.status.value, "lines": lines, "updated_at": now()}
        if version is None:
            doc = ReservationDoc(  # type: ignore[call-arg]
                order_id=reservation.order_id, status=reservation.status.value, lines=lines
            )
            try:
                await self.reservations.insert_one(doc.model_dump_doc(), session=self.session)
            except DuplicateKeyError:
                raise RetryTransaction("the reservation was created concurrently")
            return
        result = await self.reservations.update_one(
            {"_id": reservation.order_id, "version": version},
            {"$set": {**fields, "version": version + 1}},
            session=self.session,
        )
        if result.matched_count != 1:
            raise RetryTransaction("the reservation was changed concurrently")

    async def add_event(self, event: CloudEvent) -> None:
        doc = OutboxDoc(  # type: ignore[call-arg]
            event_id=event.id,
            type=event.type,
            topic=event.topic,
            key=event.subject,
            value=event.to_json(),
        )
        await self.outbox.insert_one(doc.model_dump_doc(), session=self.session)
