"""The outbox and the inbox in MongoDB (motor), used by items.

Layout:

* ``outbox``: one document per event, ``_id`` the event id (a second insert of the same
  event is refused), ``seq`` (an ObjectId taken when the document is built: the relay's
  order), ``type``, ``topic``, ``key`` (the aggregate id), ``value`` (the CloudEvent's JSON),
  ``headers`` (strings; absent from documents written before headers existed, read as
  none), ``created_at``, ``published_at`` (null while pending). Index
  ``(published_at, seq)``: the relay's query and the purge.
* ``inbox``: ``_id`` ``<consumer>:<event id>``, ``consumer``, ``event_id``, ``handled_at``
  (indexed for the purge).

Two ways to write an event with its change: ``add`` inserts the document inside the change's
multi-document transaction; where the change is a single-document write instead (items'
stock reservations, docs/inventory.md), the change stores ``document(event)`` inside the
document it changes, atomically with the change, and ``copy`` then inserts that document into
the outbox, once (its ``_id`` is the event id) however often it is retried.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pymongo
from bson import ObjectId
from motor.motor_asyncio import AsyncIOMotorClientSession, AsyncIOMotorDatabase
from pymongo.errors import DuplicateKeyError

from shopkit.events.envelope import CloudEvent
from shopkit.events.outbox import OutboxMessage

OUTBOX = "outbox"
INBOX = "inbox"


def _now() -> datetime:
    return datetime.now(UTC)


class MongoOutbox:
    def __init__(self, database: AsyncIOMotorDatabase, collection: str = OUTBOX) -> None:
        self.collection = database[collection]

    async def create_indexes(self) -> None:
        await self.collection.create_indexes(
            [pymongo.IndexModel([("published_at", 1), ("seq", 1)])]
        )

    @staticmethod
    def document(event: CloudEvent) -> dict[str, Any]:
        """The outbox document of ``event``."""
        return {
            "_id": event.id,
            "seq": ObjectId(),
            "type": event.type,
            "topic": event.topic,
            "key": event.subject,
            "value": event.to_json(),
            "headers": dict(event.headers),
            "created_at": _now(),
            "published_at": None,
        }

    async def add(self, event: CloudEvent, *, session: AsyncIOMotorClientSession) -> None:
        """Inserts ``event`` in the transaction of ``session`` (the change it describes)."""
        await self.collection.insert_one(self.document(event), session=session)

    async def copy(self, document: dict[str, Any]) -> None:
        """Inserts a ``document(event)`` stored with a change, unless it is there already."""
        with contextlib.suppress(DuplicateKeyError):
            await self.collection.insert_one(dict(document))

    async def pending(self, limit: int) -> list[OutboxMessage]:
        cursor = self.collection.find({"published_at": None}).sort("seq", 1).limit(limit)
        return [
            OutboxMessage(
                id=doc["_id"],
                topic=doc["topic"],
                key=doc["key"],
                value=doc["value"],
                type=doc["type"],
                headers=dict(doc.get("headers") or {}),
            )
            async for doc in cursor
        ]

    async def mark_published(self, messages: Sequence[OutboxMessage]) -> None:
        await self.collection.update_many(
            {"_id": {"$in": [m.id for m in messages]}}, {"$set": {"published_at": _now()}}
        )

    async def purge_published(self, before: datetime) -> int:
        # A pending document's published_at is null, which $lt a date never matches.
        result = await self.collection.delete_many({"published_at": {"$lt": before}})
        return int(result.deleted_count)


class MongoInbox:
    def __init__(self, database: AsyncIOMotorDatabase, collection: str = INBOX) -> None:
        self.collection = database[collection]

    async def create_indexes(self) -> None:
        await self.collection.create_indexes([pymongo.IndexModel([("handled_at", 1)])])

    async def seen(self, consumer: str, event_id: str) -> bool:
        found = await self.collection.find_one({"_id": f"{consumer}:{event_id}"}, {"_id": 1})
        return found is not None

    async def record(self, consumer: str, event_id: str) -> None:
        doc = {
            "_id": f"{consumer}:{event_id}",
            "consumer": consumer,
            "event_id": event_id,
            "handled_at": _now(),
        }
        with contextlib.suppress(DuplicateKeyError):
            await self.collection.insert_one(doc)

    async def purge(self, before: datetime) -> int:
        result = await self.collection.delete_many({"handled_at": {"$lt": before}})
        return int(result.deleted_count)
