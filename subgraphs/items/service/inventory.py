"""Stock reservations for orders: reserve (set the held lines), release and commit. Each is
idempotent per order and written with its event; none uses a multi-document transaction, so
a flash sale on one item does not make its reservations conflict (``stock_changes.py``,
docs/inventory.md).

Committing a paid order sells exactly the lines it was paid for: the held lines may differ
(an order change whose reservation went through but whose write lost to the payment), so the
commit first moves the difference between available and reserved, like ``reserve``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from shopkit.auth import Identity, require_service
from shopkit.errors import NotFound
from subgraphs.items.domain import events
from subgraphs.items.domain.reservation import (
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockMove,
    check_can_commit,
    check_can_release,
    check_can_reserve,
    check_order_id,
    commit_moves,
    merge_lines,
    paid_moves,
    release_moves,
    reserve_moves,
)
from subgraphs.items.service.stock_changes import Made, Plan, StockChanges
from subgraphs.items.store.database import ItemsDatabase
from subgraphs.items.store.reservations import ReservationStore, StoredReservation

log = logging.getLogger(__name__)

# How long a held reservation goes unquestioned before the orphan-hold sweep asks orders
# about it (``ITEMS_HOLD_GRACE_SECONDS`` in the app).
DEFAULT_HOLD_GRACE = timedelta(minutes=10)


def reservation_not_found(order_id: str) -> NotFound:
    return NotFound(f"There is no reservation for order {order_id}.", orderId=order_id)


class InventoryService:
    def __init__(
        self,
        db: ItemsDatabase,
        *,
        notify: Callable[[], None] = lambda: None,
        hold_grace: timedelta = DEFAULT_HOLD_GRACE,
        changes: StockChanges | None = None,
    ) -> None:
        self.db = db
        self.changes = changes or StockChanges(ReservationStore(db), review_after=hold_grace)
        self.store = self.changes.store
        self.notify = notify

    # -- the internal API orders calls (reserveStock, releaseStock, commitStock) ----------------

    async def reserve_stock(
        self, identity: Identity, order_id: str, lines: Iterable[tuple[str, int]]
    ) -> Reservation:
        require_service(identity)
        return await self.reserve(order_id, lines)

    async def release_stock(self, identity: Identity, order_id: str) -> Reservation:
        require_service(identity)
        return await self.release(order_id)

    async def commit_stock(self, identity: Identity, order_id: str) -> Reservation:
        require_service(identity)
        return await self.commit(order_id)

    # -- the use cases, also run by the order event consumers and the hold sweep -------------

    async def get(self, order_id: str) -> Reservation:
        order_id = check_order_id(order_id)
        reservation = await self.db.get_reservation(order_id)
        if reservation is None:
            raise reservation_not_found(order_id)
        return reservation

    async def reserve(self, order_id: str, lines: Iterable[tuple[str, int]]) -> Reservation:
        order_id = check_order_id(order_id)
        wanted = merge_lines(lines)

        def plan(existing: Reservation | None) -> Plan | Reservation:
            check_can_reserve(existing, wanted)
            if existing is not None and existing.status is ReservationStatus.COMMITTED:
                return existing
            held = existing.quantities() if existing else {}
            previous = {line.item_id: line for line in existing.lines} if existing else {}
            moves = reserve_moves(held, wanted)
            if existing is not None and not moves:
                return existing

            def outcome(made: dict[str, Made]) -> Reservation:
                lines = []
                for item_id, quantity in wanted.items():
                    item = made[item_id].item if item_id in made else None
                    if item is not None:
                        line = ReservationLine(
                            item.id, item.name, item.upc, quantity, item.unit_price
                        )
                    else:
                        line = _requantified(previous[item_id], quantity)
                    lines.append(line)
                return Reservation(order_id, ReservationStatus.HELD, lines)

            return Plan(moves, outcome, events.InventoryReserved, all_or_nothing=True)

        return await self._run(order_id, plan)

    async def release(self, order_id: str) -> Reservation:
        order_id = check_order_id(order_id)

        def plan(existing: Reservation | None) -> Plan | Reservation:
            existing = _held(order_id, existing)
            check_can_release(existing)
            if existing.status is ReservationStatus.RELEASED:
                return existing
            return _whole(existing, ReservationStatus.RELEASED)

        return await self._run(order_id, plan)

    async def commit(
        self, order_id: str, paid: Iterable[tuple[str, int]] | None = None
    ) -> Reservation:
        """Sells the stock held for the order; with ``paid`` (the lines the order was paid
        for), sells those instead: each line's held quantity is first adjusted by the
        difference. A line that needs more units than are available keeps its held quantity
        (available never goes below zero) and the shortfall is logged as an error."""
        order_id = check_order_id(order_id)
        wanted = merge_lines(paid) if paid is not None else None
        shortfall: dict[str, int] = {}

        def plan(existing: Reservation | None) -> Plan | Reservation:
            existing = _held(order_id, existing)
            check_can_commit(existing)
            if existing.status is ReservationStatus.COMMITTED:
                return existing
            if wanted is None:
                return _whole(existing, ReservationStatus.COMMITTED)
            held = existing.quantities()
            previous = {line.item_id: line for line in existing.lines}

            def outcome(made: dict[str, Made]) -> Reservation:
                shortfall.clear()
                sold: list[ReservationLine] = []
                for item_id in [*wanted, *(i for i in held if i not in wanted)]:
                    want, have = wanted.get(item_id, 0), held.get(item_id, 0)
                    quantity, line = want, previous.get(item_id)
                    done = made.get(item_id)
                    took_all = done is not None and done.move.available == have - want
                    if want > have and not took_all:
                        shortfall[item_id] = want - have
                        quantity = have
                    elif line is None and done is not None and done.item is not None:
                        item = done.item
                        line = ReservationLine(item.id, item.name, item.upc, 0, item.unit_price)
                    if quantity > 0 and line is not None:
                        sold.append(_requantified(line, quantity))
                return Reservation(order_id, ReservationStatus.COMMITTED, sold)

            return Plan(
                paid_moves(held, wanted),
                outcome,
                events.InventoryCommitted,
                all_or_nothing=False,
            )

        reservation = await self._run(order_id, plan)
        if shortfall:
            log.error(
                "not enough stock for a paid order's lines; committed what was held instead",
                extra={"order_id": order_id, "shortfall": dict(shortfall)},
            )
        return reservation

    async def _run(
        self, order_id: str, plan: Callable[[Reservation | None], Plan | Reservation]
    ) -> Reservation:
        """Runs the change; wakes the outbox relay after one that wrote an event."""
        reservation, changed = await self.changes.run(order_id, plan)
        if changed:
            self.notify()
        return reservation

    async def repair(self) -> int:
        """Recovers stock changes a crash left behind (the periodic sweep)."""
        repaired = await self.changes.sweep()
        if repaired:
            self.notify()
        return repaired

    async def holds_to_review(self, limit: int) -> list[StoredReservation]:
        """Held reservations whose review by the orphan-hold sweep is due."""
        now = self.changes.clock()
        return await self.store.holds_due(now, now - self.changes.review_after, limit)

    async def keep_hold(self, stored: StoredReservation) -> None:
        """The order still needs its hold: ask again after the grace period."""
        await self.store.postpone_review(stored, self.changes.clock() + self.changes.review_after)


# How a whole reservation ends: the moves of its held lines and the event that announces it.
_ENDINGS: dict[
    ReservationStatus,
    tuple[Callable[[Reservation], list[StockMove]], type[events.ReservationEvent]],
] = {
    ReservationStatus.RELEASED: (release_moves, events.InventoryReleased),
    ReservationStatus.COMMITTED: (commit_moves, events.InventoryCommitted),
}


def _whole(existing: Reservation, status: ReservationStatus) -> Plan:
    """The plan that ends ``existing`` as ``status`` with its lines as held: a release, or a
    commit of what was held. A move that cannot be made is skipped, not refused."""
    moves, event = _ENDINGS[status]
    done = Reservation(existing.order_id, status, existing.lines)
    return Plan(moves(existing), lambda made: done, event, all_or_nothing=False)


def _held(order_id: str, existing: Reservation | None) -> Reservation:
    if existing is None:
        raise reservation_not_found(order_id)
    return existing


def _requantified(line: ReservationLine, quantity: int) -> ReservationLine:
    return ReservationLine(line.item_id, line.name, line.upc, quantity, line.unit_price)
