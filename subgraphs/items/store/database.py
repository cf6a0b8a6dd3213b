"""The connection to MongoDB, the indexes, reads outside transactions and the transaction
runner (retried on transient errors and write conflicts)."""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from bson import ObjectId
from motor.motor_asyncio import AsyncIOMotorClient
from odmantic import AIOEngine, query
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from shopkit.errors import Unavailable
from subgraphs.items.domain.model import Item
from subgraphs.items.domain.reservation import Reservation
from subgraphs.items.store.documents import InboxDoc, ItemDoc, OutboxDoc, ReservationDoc
from subgraphs.items.store.transaction import RetryTransaction, Transaction

log = logging.getLogger(__name__)
T = TypeVar("T")
WRITE_CONFLICT = 112
TRANSACTION_ATTEMPTS = 30


def _retryable(exc: PyMongoError) -> bool:
    if isinstance(exc, RetryTransaction):
        return True
    if exc.has_error_label("TransientTransactionError"):
        return True
    return isinstance(exc, OperationFailure) and exc.code == WRITE_CONFLICT


class ItemsDatabase:
    def __init__(self, url: str, database: str, **client_options: Any) -> None:
        options = {"tz_aware": True, "serverSelectionTimeoutMS": 5000, **client_options}
        self.client: AsyncIOMotorClient = AsyncIOMotorClient(url, **options)
        self.engine = AIOEngine(client=self.client, database=database)

    async def configure(self) -> None:
        models: list[Any] = [ItemDoc, ReservationDoc, OutboxDoc, InboxDoc]
        await self.engine.configure_database(models)

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    def close(self) -> None:
        self.client.close()

    def collection(self, model: type[Any]) -> Any:
        return self.engine.get_collection(model)

    async def run(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """Runs ``work`` in one transaction, again from the start after a transient failure.
        A ``ShopError`` from ``work`` aborts the transaction and reaches the caller."""
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                async with await self.client.start_session() as session:
                    async with session.start_transaction():
                        result = await work(Transaction(self, session))
                return result
            except PyMongoError as exc:
                if not _retryable(exc) or attempt == TRANSACTION_ATTEMPTS:
                    if isinstance(exc, ConnectionFailure) or _retryable(exc):
                        raise Unavailable("The catalog database is busy; try again.") from exc
                    raise
                await asyncio.sleep(random.uniform(0, 0.005 * attempt))
        raise AssertionError("unreachable")

    # Reads outside a transaction.

    async def get_item(self, item_id: str) -> Item | None:
        doc = await self.engine.find_one(ItemDoc, ItemDoc.id == ObjectId(item_id))
        return doc.to_domain() if doc else None

    async def get_items(self, item_ids: Sequence[str]) -> dict[str, Item]:
        """The items among ``item_ids`` that exist, in one query."""
        wanted = [ObjectId(i) for i in set(item_ids)]
        docs = await self.engine.find(ItemDoc, query.in_(ItemDoc.id, wanted))
        return {str(doc.id): doc.to_domain() for doc in docs}

    async def get_item_by_upc(self, upc: str) -> Item | None:
        doc = await self.engine.find_one(ItemDoc, ItemDoc.upc == upc)
        return doc.to_domain() if doc else None

    async def list_items(self, *, after: str | None, limit: int, search: str | None) -> list[Item]:
        """Items by ascending id after ``after``, whose name contains ``search``."""
        filters: list[Any] = []
        if after is not None:
            filters.append(ItemDoc.id > ObjectId(after))
        if search:
            filters.append(query.match(ItemDoc.name, re.compile(re.escape(search), re.I)))
        docs = await self.engine.find(ItemDoc, *filters, sort=ItemDoc.id, limit=limit)
        return [doc.to_domain() for doc in docs]

    async def count_items(self) -> int:
        return await self.engine.count(ItemDoc)

    async def get_reservation(self, order_id: str) -> Reservation | None:
        doc = await self.engine.find_one(ReservationDoc, ReservationDoc.order_id == order_id)
        return doc.to_domain() if doc else None
