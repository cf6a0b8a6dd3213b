"""Stock reservations as single-document writes, each journaled and atomic on its own.

A transaction that changes a hot item's counters conflicts with every other one changing
them: under a flash sale most give up (docs/inventory.md). So a change of an order's stock is
a short protocol of single-document writes, none of them inside a transaction:

1. ``begin``: the reservation document records the change in flight (``change``: its id, the
   items it moves, ``applying``). At most one change per order is in flight.
2. ``move`` per item: one conditional ``$inc`` of the counters (never below zero) that also
   pushes a marker ``{id, order, available, reserved, at}`` onto the item's ``pending`` list,
   unless the marker is already there: repeating a move changes nothing, and a move that was
   made can be found and undone exactly.
3. ``finish``: the reservation takes its new lines and status, and the change becomes
   ``finished`` with the event that describes it, in the same write (the event rides in the
   document it describes, so it is written atomically with the change).
4. ``publish`` copies that event to the outbox (its id is the event id: a second copy is
   refused), ``settle`` removes the markers, ``clear`` ends the change.

A change that stops before ``finish`` (a refusal, a crash, a deadline) is rolled back:
``claim_rollback`` makes it ``rolling_back`` (so it can no longer finish), ``undo`` reverses
each item's marked move, ``clear`` ends it. One that stops after ``finish`` is completed
(steps 4). The service layer drives this (``service/stock_changes.py``), and its sweep finds
changes and markers left behind by a crash (``stale_changes``, ``stale_markers``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shopkit.events import CloudEvent
from shopkit.events.store.mongo import MongoOutbox
from subgraphs.items.domain.model import Item
from subgraphs.items.domain.reservation import Reservation, ReservationStatus, StockMove
from subgraphs.items.store.database import ItemsDatabase, translated
from subgraphs.items.store.documents import ReservationDoc, item_from_doc, line_doc, now


class ChangeState(StrEnum):
    APPLYING = "applying"
    ROLLING_BACK = "rolling_back"
    FINISHED = "finished"


@dataclass(frozen=True)
class PendingChange:
    """A change of one order's stock in flight. ``first``: the order had no reservation
    before it (rolling it back removes the document)."""

    id: str
    item_ids: list[str]
    state: ChangeState
    started_at: datetime
    first: bool
    event: dict[str, Any] | None = None


@dataclass(frozen=True)
class StoredReservation:
    """A reservation document: the reservation as of its last finished change (None before
    the first one finishes), its version, and the change in flight if any."""

    order_id: str
    reservation: Reservation | None
    version: int
    change: PendingChange | None


class MoveOutcome(StrEnum):
    MADE = "made"
    REFUSED = "refused"  # it would take a counter below zero
    NO_ITEM = "no_item"


@dataclass(frozen=True)
class MoveResult:
    outcome: MoveOutcome
    item: Item | None  # the item after the move (before, when refused)


def _change(raw: dict[str, Any] | None) -> PendingChange | None:
    if not raw:
        return None
    return PendingChange(
        id=raw["id"],
        item_ids=list(raw.get("item_ids") or []),
        state=ChangeState(raw["state"]),
        started_at=raw["at"],
        first=bool(raw.get("first")),
        event=raw.get("event"),
    )


def _stored(raw: dict[str, Any]) -> StoredReservation:
    doc = ReservationDoc.model_validate_doc(raw)
    return StoredReservation(
        order_id=doc.order_id,
        reservation=doc.to_domain() if doc.exists() else None,
        version=doc.version,
        change=_change(raw.get("change")),
    )


class ReservationStore:
    def __init__(self, db: ItemsDatabase) -> None:
        self.items = db.items
        self.reservations = db.collection(ReservationDoc)
        self.outbox = db.outbox

    @translated
    async def get(self, order_id: str) -> StoredReservation | None:
        raw = await self.reservations.find_one({"_id": order_id})
        return _stored(raw) if raw else None

    @translated
    async def begin(
        self, order_id: str, stored: StoredReservation | None, change_id: str, item_ids: list[str]
    ) -> bool:
        """Records a change in flight on the reservation as it was read (``stored``; None:
        there was none). False if another change got there first."""
        at = now()
        change = {
            "id": change_id,
            "item_ids": item_ids,
            "state": ChangeState.APPLYING.value,
            "at": at,
            "first": stored is None,
        }
        if stored is None:
            doc = {
                "_id": order_id,
                "status": ReservationStatus.HELD.value,
                "lines": [],
                "version": 0,
                "change": change,
                "review_at": None,
                "created_at": at,
                "updated_at": at,
            }
            try:
                await self.reservations.insert_one(doc)
            except DuplicateKeyError:
                return False
            return True
        result = await self.reservations.update_one(
            {"_id": order_id, "version": stored.version, "change": None},
            {"$set": {"change": change}},
        )
        return result.modified_count == 1

    @translated
    async def move(self, order_id: str, change_id: str, move: StockMove) -> MoveResult:
        """Makes ``move`` on its item once for this change, if no counter goes below zero."""
        filter_: dict[str, Any] = {"_id": ObjectId(move.item_id), "pending.id": {"$ne": change_id}}
        if move.available < 0:
            filter_["available"] = {"$gte": -move.available}
        if move.reserved < 0:
            filter_["reserved"] = {"$gte": -move.reserved}
        at = now()
        marker = {
            "id": change_id,
            "order": order_id,
            "available": move.available,
            "reserved": move.reserved,
            "at": at,
        }
        raw = await self.items.find_one_and_update(
            filter_,
            {
                "$inc": {"available": move.available, "reserved": move.reserved},
                "$push": {"pending": marker},
                "$set": {"updated_at": at},
            },
            return_document=ReturnDocument.AFTER,
        )
        if raw is not None:
            return MoveResult(MoveOutcome.MADE, item_from_doc(raw))
        raw = await self.items.find_one({"_id": ObjectId(move.item_id)})
        if raw is None:
            return MoveResult(MoveOutcome.NO_ITEM, None)
        if any(m.get("id") == change_id for m in raw.get("pending") or []):
            return MoveResult(MoveOutcome.MADE, item_from_doc(raw))
        return MoveResult(MoveOutcome.REFUSED, item_from_doc(raw))

    @translated
    async def undo(self, change_id: str, item_id: str) -> None:
        """Reverses the move this change made on the item, if it made one (at most once)."""
        await self._undo(change_id, item_id)

    async def _undo(self, change_id: str, item_id: str) -> None:
        raw = await self.items.find_one({"_id": ObjectId(item_id), "pending.id": change_id})
        if raw is None:
            return
        marker = next(m for m in raw["pending"] if m.get("id") == change_id)
        await self.items.update_one(
            {"_id": ObjectId(item_id), "pending.id": change_id},
            {
                "$inc": {"available": -marker["available"], "reserved": -marker["reserved"]},
                "$pull": {"pending": {"id": change_id}},
                "$set": {"updated_at": now()},
            },
        )

    @translated
    async def finish(
        self,
        version: int,
        order_id: str,
        change: PendingChange,
        reservation: Reservation,
        event: CloudEvent,
        review_at: datetime | None,
    ) -> PendingChange | None:
        """The reservation takes its new lines and status and the change is finished, with
        its event, in one write. ``version`` is the reservation's version when the change
        began. None if the change is no longer applying (it was rolled back)."""
        event_row = MongoOutbox.document(event)
        result = await self.reservations.update_one(
            {"_id": order_id, "change.id": change.id, "change.state": ChangeState.APPLYING.value},
            {
                "$set": {
                    "status": reservation.status.value,
                    "lines": [line_doc(line) for line in reservation.lines],
                    "version": version + 1,
                    "review_at": review_at,
                    "updated_at": now(),
                    "change.state": ChangeState.FINISHED.value,
                    "change.event": event_row,
                }
            },
        )
        if result.modified_count != 1:
            return None
        return replace(change, state=ChangeState.FINISHED, event=event_row)

    @translated
    async def claim_rollback(self, order_id: str, change_id: str) -> bool:
        """Stops the change from finishing; False if it has finished (or ended) already."""
        result = await self.reservations.update_one(
            {
                "_id": order_id,
                "change.id": change_id,
                "change.state": {"$ne": ChangeState.FINISHED.value},
            },
            {"$set": {"change.state": ChangeState.ROLLING_BACK.value}},
        )
        return result.matched_count == 1

    @translated
    async def publish(self, change: PendingChange) -> None:
        """Copies a finished change's event to the outbox (once)."""
        if change.event is not None:
            await self.outbox.copy(change.event)

    @translated
    async def settle(self, change: PendingChange) -> None:
        """Removes the change's markers from its items (its moves stay)."""
        await self.items.update_many(
            {"_id": {"$in": [ObjectId(i) for i in change.item_ids]}, "pending.id": change.id},
            {"$pull": {"pending": {"id": change.id}}},
        )

    @translated
    async def clear(self, order_id: str, change: PendingChange) -> None:
        """Ends the change: a rolled-back first change leaves no reservation behind."""
        if change.first and change.state is not ChangeState.FINISHED:
            await self.reservations.delete_one({"_id": order_id, "change.id": change.id})
            return
        await self.reservations.update_one(
            {"_id": order_id, "change.id": change.id}, {"$set": {"change": None}}
        )

    @translated
    async def stale_changes(self, started_before: datetime, limit: int) -> list[StoredReservation]:
        """Reservations whose change in flight started before ``started_before``."""
        cursor = self.reservations.find({"change.at": {"$lt": started_before}}).limit(limit)
        return [_stored(raw) async for raw in cursor]

    @translated
    async def stale_markers(self, made_before: datetime, limit: int) -> list[tuple[str, str, str]]:
        """``(item id, change id, order id)`` of move markers older than ``made_before``."""
        found: list[tuple[str, str, str]] = []
        cursor = self.items.find({"pending.at": {"$lt": made_before}}, {"pending": 1}).limit(limit)
        async for raw in cursor:
            for marker in raw.get("pending") or []:
                if marker["at"] < made_before:
                    found.append((str(raw["_id"]), marker["id"], marker["order"]))
        return found

    @translated
    async def drop_marker(self, item_id: str, change_id: str, *, undo: bool) -> None:
        """Removes a marker left behind, reversing its move when ``undo``."""
        if undo:
            await self._undo(change_id, item_id)
            return
        await self.items.update_one(
            {"_id": ObjectId(item_id)}, {"$pull": {"pending": {"id": change_id}}}
        )

    @translated
    async def holds_due(
        self, due: datetime, legacy_before: datetime, limit: int
    ) -> list[StoredReservation]:
        """Held reservations with no change in flight whose review is due; a reservation
        written before reviews existed is due once it is older than ``legacy_before``."""
        cursor = self.reservations.find(
            {
                "status": ReservationStatus.HELD.value,
                "change": None,
                "$or": [
                    {"review_at": {"$lte": due}},
                    {"review_at": None, "updated_at": {"$lte": legacy_before}},
                ],
            }
        ).limit(limit)
        return [_stored(raw) async for raw in cursor]

    @translated
    async def postpone_review(self, stored: StoredReservation, review_at: datetime) -> None:
        await self.reservations.update_one(
            {"_id": stored.order_id, "version": stored.version, "change": None},
            {"$set": {"review_at": review_at}},
        )
