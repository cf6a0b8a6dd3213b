"""The connection to MongoDB, the indexes, reads outside transactions and the transaction
runner (retried on transient errors and write conflicts, with jittered back-off, until a
deadline).

Every write is acknowledged only once it is on a majority of the replica set and in its
journal (``w="majority", j=True``, set on the client so that no write can forget it). That is
what MongoDB 7 does for majority writes anyway; saying it explicitly makes the local engine
(SecantusDB) do the same, which otherwise acknowledges a write before its journal reaches the
disk and loses the last moment of acknowledged writes when it is killed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import re
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, ParamSpec, TypeVar

from bson import ObjectId
from motor.motor_asyncio import AsyncIOMotorClient
from odmantic import AIOEngine
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError, WriteConcernError

from shopkit.errors import Unavailable
from shopkit.events.store.mongo import MongoInbox, MongoOutbox
from subgraphs.items.domain.model import Item
from subgraphs.items.domain.reservation import Reservation
from subgraphs.items.store.documents import (
    ITEM_FIELDS,
    ItemDoc,
    ReservationDoc,
    item_from_doc,
    item_or_none,
    now,
)
from subgraphs.items.store.transaction import Transaction

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
WRITE_CONFLICT = 112
# Server answers that mean "busy or not available now", not "this request is wrong": exceeded
# time limits, lock timeouts, a write concern not met, a primary stepping down or shutting down.
BUSY_CODES = frozenset({24, 50, 64, 91, 189, 262, 10107, 11600, 11602, 13435})
# A transaction that keeps conflicting is tried again, after a random wait that doubles up
# to a cap ("full jitter"), until this deadline; then the caller gets ``Unavailable``.
TRANSACTION_DEADLINE_SECONDS = 5.0
BACKOFF_FIRST_SECONDS = 0.005
BACKOFF_CAP_SECONDS = 0.2


def _retryable(exc: PyMongoError) -> bool:
    if exc.has_error_label("TransientTransactionError"):
        return True
    return isinstance(exc, OperationFailure) and exc.code == WRITE_CONFLICT


def _busy(exc: PyMongoError) -> bool:
    """The database is busy or unreachable (the caller may try again), not refusing a bug."""
    if isinstance(exc, ConnectionFailure | WriteConcernError) or _retryable(exc):
        return True
    if exc.has_error_label("RetryableWriteError"):
        return True
    return isinstance(exc, OperationFailure) and exc.code in BUSY_CODES


def busy() -> Unavailable:
    return Unavailable("The catalog database is busy or unreachable; try again.")


def translated(method: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """A store method whose driver failures reach the caller as ``Unavailable`` (retryable)."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except PyMongoError as exc:
            if _busy(exc):
                raise busy() from exc
            raise

    return wrapper


class ItemsDatabase:
    def __init__(self, url: str, database: str, **client_options: Any) -> None:
        options = {
            "tz_aware": True,
            "serverSelectionTimeoutMS": 5000,
            "w": "majority",
            "journal": True,
            **client_options,
        }
        self.client: AsyncIOMotorClient = AsyncIOMotorClient(url, **options)
        self.engine = AIOEngine(client=self.client, database=database)
        self.items = self.collection(ItemDoc)  # every store reads it as documents (item_from_doc)
        self.journal = self.client[database]["journal"]
        self.outbox = MongoOutbox(self.client[database])
        self.inbox = MongoInbox(self.client[database])
        self._journal_id = uuid.uuid4().hex

    async def configure(self) -> None:
        models: list[Any] = [ItemDoc, ReservationDoc]
        await self.engine.configure_database(models)
        await self.outbox.create_indexes()
        await self.inbox.create_indexes()

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    def close(self) -> None:
        self.client.close()

    def collection(self, model: type[Any]) -> Any:
        return self.engine.get_collection(model)

    async def run(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """Runs ``work`` in one transaction, again from the start after a transient failure.
        A ``ShopError`` from ``work`` aborts the transaction and reaches the caller; a
        database that stays busy or unreachable past the deadline is ``Unavailable``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TRANSACTION_DEADLINE_SECONDS
        backoff = BACKOFF_FIRST_SECONDS
        while True:
            try:
                async with (
                    await self.client.start_session() as session,
                    session.start_transaction(),
                ):
                    result = await work(Transaction(self, session))
                await self._journal_barrier()
                return result
            except PyMongoError as exc:
                if not _retryable(exc):
                    if _busy(exc):
                        raise busy() from exc
                    raise
                wait = random.uniform(0, backoff)
                if loop.time() + wait > deadline:
                    raise busy() from exc
                await asyncio.sleep(wait)
                backoff = min(backoff * 2, BACKOFF_CAP_SECONDS)

    async def _journal_barrier(self) -> None:
        """A journaled single-document write after a commit. SecantusDB 0.7 acknowledges a
        ``commitTransaction`` before its journal is on disk even when asked ``j: true`` (MongoDB
        journals it); its journal is written in order, so a journaled write after the commit
        puts the commit on disk too. On MongoDB it is one more small write per catalog change
        (reservations do not use transactions)."""
        await self.journal.update_one(
            {"_id": self._journal_id}, {"$set": {"at": now()}}, upsert=True
        )

    # Reads outside a transaction.

    async def get_item(self, item_id: str) -> Item | None:
        raw = await self.items.find_one({"_id": ObjectId(item_id)}, ITEM_FIELDS)
        return item_or_none(raw)

    async def get_items(self, item_ids: Sequence[str]) -> dict[str, Item]:
        """The items among ``item_ids`` that exist, in one query."""
        wanted = [ObjectId(i) for i in set(item_ids)]
        found = self.items.find({"_id": {"$in": wanted}}, ITEM_FIELDS)
        return {str(raw["_id"]): item_from_doc(raw) async for raw in found}

    async def get_item_by_upc(self, upc: str) -> Item | None:
        raw = await self.items.find_one({"upc": upc}, ITEM_FIELDS)
        return item_or_none(raw)

    async def list_items(self, *, after: str | None, limit: int, search: str | None) -> list[Item]:
        """Items by ascending id after ``after``, whose name contains ``search``."""
        filters: dict[str, Any] = {}
        if after is not None:
            filters["_id"] = {"$gt": ObjectId(after)}
        if search:
            filters["name"] = {"$regex": re.escape(search), "$options": "i"}
        found = self.items.find(filters, ITEM_FIELDS, sort=[("_id", 1)], limit=limit)
        return [item_from_doc(raw) async for raw in found]

    async def count_items(self) -> int:
        return await self.engine.count(ItemDoc)

    async def get_reservation(self, order_id: str) -> Reservation | None:
        """The reservation as of its last finished change (none before the first one)."""
        doc = await self.engine.find_one(ReservationDoc, ReservationDoc.order_id == order_id)
        return doc.to_domain() if doc and doc.exists() else None
