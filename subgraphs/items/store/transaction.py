"""One MongoDB transaction as the service layer sees it: a catalog change (create, update,
delete or restock an item) and the outbox row describing it, committed together or not at
all. Counters change only through ``$inc``, never by reading a value and writing it back.

Stock reservations do not use transactions: a transaction that writes a hot item's document
conflicts with every other one writing it (see ``store/reservations.py``, docs/inventory.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bson import ObjectId
from motor.motor_asyncio import AsyncIOMotorClientSession
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shopkit.errors import Conflict
from shopkit.events import CloudEvent
from subgraphs.items.domain.model import Item, ItemChanges, NewItem
from subgraphs.items.store.documents import ItemDoc, item_from_doc, item_or_none, now

if TYPE_CHECKING:
    from subgraphs.items.store.database import ItemsDatabase


def _duplicate_upc(upc: str) -> Conflict:
    return Conflict(f"An item with UPC {upc} already exists.", field="upc", upc=upc)


class Transaction:
    def __init__(self, db: ItemsDatabase, session: AsyncIOMotorClientSession) -> None:
        self.session = session
        self.items = db.items
        self.outbox = db.outbox

    async def get_item(self, item_id: str) -> Item | None:
        raw = await self.items.find_one({"_id": ObjectId(item_id)}, session=self.session)
        return item_or_none(raw)

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
            received=new.stock,
        )
        raw = doc.model_dump_doc()
        try:
            await self.items.insert_one(raw, session=self.session)
        except DuplicateKeyError as err:
            raise _duplicate_upc(new.upc) from err
        return item_from_doc(raw)

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
        except DuplicateKeyError as err:
            raise _duplicate_upc(str(changes.upc)) from err
        return item_or_none(raw)

    async def delete_item(self, item_id: str) -> Item | None:
        raw = await self.items.find_one_and_delete({"_id": ObjectId(item_id)}, session=self.session)
        return item_or_none(raw)

    async def add_available(self, item_id: str, quantity: int) -> Item | None:
        raw = await self.items.find_one_and_update(
            {"_id": ObjectId(item_id)},
            {"$inc": {"available": quantity, "received": quantity}, "$set": {"updated_at": now()}},
            return_document=ReturnDocument.AFTER,
            session=self.session,
        )
        return item_or_none(raw)

    async def add_event(self, event: CloudEvent) -> None:
        await self.outbox.add(event, session=self.session)
