"""Runs one change of an order's stock (reserve, release, commit) through the store's
single-document protocol (``store/reservations.py``), and recovers the changes a crash left
behind.

One change per order is in flight at a time: a second request for the same order waits for
the first to end. A change that has not finished within ``CHANGE_DEADLINE_SECONDS`` gives up
(``Unavailable``, retryable) and is rolled back; one left in flight longer than the lease (its
process died) is rolled back by whoever finds it — the next request for that order, or the
sweep — and one that finished but was not cleaned up is completed. The lease is longer than
the deadline, so a live owner has stopped before anyone takes its change over; a move that was
already on its way when that happened is found by its marker and reversed by the sweep.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, replace
from datetime import UTC, datetime, timedelta

from shopkit.errors import ShopError, Unavailable
from shopkit.events import cloud_event
from subgraphs.items.domain import events
from subgraphs.items.domain.model import Item
from subgraphs.items.domain.reservation import (
    Reservation,
    ReservationStatus,
    StockMove,
    not_enough_stock,
)
from subgraphs.items.service.items import not_found
from subgraphs.items.store.reservations import (
    ChangeState,
    MoveOutcome,
    PendingChange,
    ReservationStore,
    StoredReservation,
)

log = logging.getLogger(__name__)

CHANGE_DEADLINE_SECONDS = 10.0
CHANGE_LEASE_SECONDS = 30.0
SWEEP_BATCH = 100
_WAIT_FIRST_SECONDS = 0.005
_WAIT_CAP_SECONDS = 0.1


@dataclass(frozen=True)
class Made:
    """The move made on one item (a plan's move or its fallback) and the item after it."""

    move: StockMove
    item: Item | None


@dataclass(frozen=True)
class Plan:
    """What a change does: its moves, the reservation they lead to (given the moves made,
    by item id) and the event that announces it. ``all_or_nothing``: a move that cannot be
    made refuses the whole change (reserving); otherwise it is skipped (committing a paid
    order)."""

    moves: list[StockMove]
    outcome: Callable[[dict[str, Made]], Reservation]
    event: type[events.ReservationEvent]
    all_or_nothing: bool


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class StockChanges:
    store: ReservationStore
    _: KW_ONLY
    review_after: timedelta
    lease: timedelta = timedelta(seconds=CHANGE_LEASE_SECONDS)
    deadline_seconds: float = CHANGE_DEADLINE_SECONDS
    clock: Callable[[], datetime] = _now

    async def run(
        self, order_id: str, plan_for: Callable[[Reservation | None], Plan | Reservation]
    ) -> tuple[Reservation, bool]:
        """Applies the plan ``plan_for`` makes of the order's current reservation (None: it
        has none); a reservation instead of a plan means nothing to change. Answers the
        reservation and whether anything was written."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.deadline_seconds
        wait = _WAIT_FIRST_SECONDS
        while True:
            stored = await self.store.get(order_id)
            if stored is not None and stored.change is not None:
                if stored.change.state is ChangeState.FINISHED or self._abandoned(stored.change):
                    await self.recover(stored)
                    continue
                pause = random.uniform(0, wait)
                if loop.time() + pause > deadline:
                    raise Unavailable(
                        f"The stock of order {order_id} is being changed; try again.",
                        orderId=order_id,
                    )
                await asyncio.sleep(pause)
                wait = min(wait * 2, _WAIT_CAP_SECONDS)
                continue
            plan = plan_for(stored.reservation if stored is not None else None)
            if isinstance(plan, Reservation):
                return plan, False
            change = PendingChange(
                id=uuid.uuid4().hex,
                item_ids=list(dict.fromkeys(move.item_id for move in plan.moves)),
                state=ChangeState.APPLYING,
                started_at=self.clock(),
                first=stored is None,
            )
            if not await self.store.begin(order_id, stored, change.id, change.item_ids):
                continue
            version = stored.version if stored is not None else 0
            return await self._apply(order_id, version, change, plan, deadline), True

    async def _apply(
        self, order_id: str, version: int, change: PendingChange, plan: Plan, deadline: float
    ) -> Reservation:
        loop = asyncio.get_running_loop()
        try:
            made: dict[str, Made] = {}
            for move in plan.moves:
                if loop.time() > deadline:
                    raise Unavailable("The catalog database is too busy; try again.")
                result = await self.store.move(order_id, change.id, move)
                if result.outcome is MoveOutcome.REFUSED and move.fallback is not None:
                    move = move.fallback
                    result = await self.store.move(order_id, change.id, move)
                if result.outcome is MoveOutcome.MADE:
                    made[move.item_id] = Made(move, result.item)
                elif plan.all_or_nothing and move.takes_stock:
                    if result.item is None:
                        raise not_found(move.item_id)
                    item = result.item
                    raise not_enough_stock(item.id, item.name, item.available)
                elif result.outcome is MoveOutcome.REFUSED and not move.takes_stock:
                    log.error(
                        "a stock move found fewer units than it returns; skipped",
                        extra={"order_id": order_id, "item_id": move.item_id},
                    )
            reservation = plan.outcome(made)
            event = cloud_event(plan.event(reservation), producer=events.PRODUCER)
            held = reservation.status is ReservationStatus.HELD
            review_at = self.clock() + self.review_after if held else None
            finished = await self.store.finish(
                version, order_id, change, reservation, event, review_at
            )
            if finished is None:
                raise Unavailable("The stock change took too long and was undone; try again.")
        except asyncio.CancelledError:
            raise  # the change is left to whoever finds it after the lease
        except BaseException as exc:
            await self._roll_back_quietly(order_id, change, exc)
            raise
        try:
            await self._complete(order_id, finished)
        except ShopError:
            log.warning(
                "a finished stock change was not cleaned up; the sweep will",
                extra={"order_id": order_id},
                exc_info=True,
            )
        return reservation

    async def _roll_back_quietly(
        self, order_id: str, change: PendingChange, cause: BaseException
    ) -> None:
        try:
            await self._roll_back(order_id, change)
        except ShopError:
            log.warning(
                "a refused stock change was not rolled back; the sweep will",
                extra={"order_id": order_id, "cause": type(cause).__name__},
                exc_info=True,
            )

    async def _roll_back(self, order_id: str, change: PendingChange) -> None:
        if not await self.store.claim_rollback(order_id, change.id):
            return
        for item_id in change.item_ids:
            await self.store.undo(change.id, item_id)
        await self.store.clear(order_id, replace(change, state=ChangeState.ROLLING_BACK))

    async def _complete(self, order_id: str, change: PendingChange) -> None:
        await self.store.publish(change)
        await self.store.settle(change)
        await self.store.clear(order_id, change)

    def _abandoned(self, change: PendingChange) -> bool:
        return change.started_at < self.clock() - self.lease

    async def recover(self, stored: StoredReservation) -> None:
        """Completes a finished change, or rolls back one that did not finish."""
        change = stored.change
        if change is None:
            return
        if change.state is ChangeState.FINISHED:
            await self._complete(stored.order_id, change)
        else:
            await self._roll_back(stored.order_id, change)

    async def sweep(self) -> int:
        """Recovers the changes left in flight past the lease and reverses the moves made
        after their change had ended; answers how many it repaired."""
        before = self.clock() - self.lease
        repaired = 0
        for stored in await self.store.stale_changes(before, SWEEP_BATCH):
            await self.recover(stored)
            repaired += 1
        for item_id, change_id, order_id in await self.store.stale_markers(before, SWEEP_BATCH):
            owner = await self.store.get(order_id)
            if owner is not None and owner.change is not None and owner.change.id == change_id:
                continue  # its change is being recovered above
            await self.store.drop_marker(item_id, change_id, undo=True)
            repaired += 1
        if repaired:
            log.warning("stock changes left by a crash repaired", extra={"count": repaired})
        return repaired
