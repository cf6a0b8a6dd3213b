"""The outbox the relay publishes from, and the inbox consumers deduplicate with."""

from __future__ import annotations

from odmantic import query
from pymongo.errors import DuplicateKeyError

from shopkit.events import OutboxMessage
from subgraphs.items.store.database import ItemsDatabase
from subgraphs.items.store.documents import InboxDoc, OutboxDoc, now


class MongoOutbox:
    """``shopkit.events.outbox.OutboxStore`` over the ``outbox`` collection."""

    def __init__(self, db: ItemsDatabase) -> None:
        self.db = db

    async def pending(self, limit: int) -> list[OutboxMessage]:
        docs = await self.db.engine.find(
            OutboxDoc,
            query.eq(OutboxDoc.published_at, None),
            sort=OutboxDoc.seq,
            limit=limit,
        )
        return [
            OutboxMessage(id=d.event_id, topic=d.topic, key=d.key, value=d.value, type=d.type)
            for d in docs
        ]

    async def mark_published(self, ids: list[str]) -> None:
        await self.db.collection(OutboxDoc).update_many(
            {"_id": {"$in": ids}}, {"$set": {"published_at": now()}}
        )


class MongoInbox:
    """``shopkit.events.kafka.InboxStore`` over the ``inbox`` collection."""

    def __init__(self, db: ItemsDatabase) -> None:
        self.db = db

    async def seen(self, consumer: str, event_id: str) -> bool:
        found = await self.db.collection(InboxDoc).find_one({"_id": f"{consumer}:{event_id}"})
        return found is not None

    async def record(self, consumer: str, event_id: str) -> None:
        doc = InboxDoc(  # type: ignore[call-arg]
            key=f"{consumer}:{event_id}", consumer=consumer, event_id=event_id
        )
        try:
            await self.db.collection(InboxDoc).insert_one(doc.model_dump_doc())
        except DuplicateKeyError:
            pass
