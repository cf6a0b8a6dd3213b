"""Stock reservations for orders: reserve (set the held lines), release and commit. Each is
one transaction over the reservation, the counters and the outbox, and idempotent per order.

Committing a paid order sells exactly the lines it was paid for: the held lines may differ
(an order change whose reservation went through but whose write lost to the payment), so the
commit first moves the difference between available and reserved, like ``reserve``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from shopkit.errors import NotFound
from subgraphs.items.domain import events
from subgraphs.items.domain.reservation import (
    Reservation,
    ReservationLine,
    ReservationStatus,
    check_can_commit,
    check_can_release,
    check_can_reserve,
    check_order_id,
    merge_lines,
    not_enough_stock,
    stock_deltas,
)
from subgraphs.items.service.items import not_found
from subgraphs.items.service.outbox import EventFactory
from subgraphs.items.store.database import ItemsDatabase
from subgraphs.items.store.transaction import Transaction

log = logging.getLogger(__name__)


def reservation_not_found(order_id: str) -> NotFound:
    return NotFound(f"There is no reservation for order {order_id}.", orderId=order_id)


class InventoryService:
    def __init__(
        self,
        db: ItemsDatabase,
        *,
        events_factory: EventFactory | None = None,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.events = events_factory or EventFactory()
        self.notify = notify

    async def get(self, order_id: str) -> Reservation:
        order_id = check_order_id(order_id)
        reservation = await self.db.get_reservation(order_id)
        if reservation is None:
            raise reservation_not_found(order_id)
        return reservation

    async def reserve(self, order_id: str, lines: Iterable[tuple[str, int]]) -> Reservation:
        order_id = check_order_id(order_id)
        wanted = merge_lines(lines)

        async def work(tx: Transaction) -> tuple[Reservation, bool]:
            found = await tx.get_reservation(order_id)
            existing, version = found if found else (None, None)
            check_can_reserve(existing, wanted)
            if existing is not None and existing.status is ReservationStatus.COMMITTED:
                return existing, False
            held = existing.quantities() if existing else {}
            previous = {line.item_id: line for line in existing.lines} if existing else {}
            deltas = stock_deltas(held, wanted)
            if existing is not None and not deltas:
                return existing, False
            snapshot: dict[str, ReservationLine] = {}
            for item_id, delta in deltas.items():
                if delta > 0:
                    item = await tx.take_stock(item_id, delta)
                    if item is None:
                        current = await tx.get_item(item_id)
                        if current is None:
                            raise not_found(item_id)
                        raise not_enough_stock(item_id, current.name, current.available)
                else:
                    item = await tx.return_stock(item_id, -delta)
                if item is not None:
                    snapshot[item_id] = ReservationLine(
                        item.id, item.name, item.upc, wanted.get(item_id, 0), item.unit_price
                    )
            reservation = Reservation(
                order_id=order_id,
                status=ReservationStatus.HELD,
                lines=[
                    snapshot.get(item_id) or _requantified(previous[item_id], quantity)
                    for item_id, quantity in wanted.items()
                ],
            )
            await self._save(tx, reservation, version, events.INVENTORY_RESERVED)
            return reservation, True

        return await self._run(work)

    async def release(self, order_id: str) -> Reservation:
        return await self._finish(order_id, ReservationStatus.RELEASED)

    async def commit(
        self, order_id: str, paid: Iterable[tuple[str, int]] | None = None
    ) -> Reservation:
        """Sells the stock held for the order; with ``paid`` (the lines the order was paid
        for), sells those instead: each line's held quantity is first adjusted by the
        difference. A line that needs more units than are available keeps its held quantity
        (available never goes below zero) and the shortfall is logged as an error."""
        if paid is None:
            return await self._finish(order_id, ReservationStatus.COMMITTED)
        order_id = check_order_id(order_id)
        wanted = merge_lines(paid)
        shortfall: dict[str, int] = {}

        async def work(tx: Transaction) -> tuple[Reservation, bool]:
            shortfall.clear()
            existing, version = await _held(tx, order_id)
            check_can_commit(existing)
            if existing.status is ReservationStatus.COMMITTED:
                return existing, False
            held = existing.quantities()
            previous = {line.item_id: line for line in existing.lines}
            sold: list[ReservationLine] = []
            for item_id in [*wanted, *(i for i in held if i not in wanted)]:
                want, have = wanted.get(item_id, 0), held.get(item_id, 0)
                quantity, line = want, previous.get(item_id)
                if want > have:
                    item = await tx.take_stock(item_id, want - have)
                    if item is None:
                        shortfall[item_id] = want - have
                        quantity = have
                    elif line is None:
                        line = ReservationLine(item.id, item.name, item.upc, 0, item.unit_price)
                elif want < have:
                    await tx.return_stock(item_id, have - want)
                if quantity > 0 and line is not None:
                    await tx.consume_reserved(item_id, quantity)
                    sold.append(_requantified(line, quantity))
            reservation = Reservation(order_id, ReservationStatus.COMMITTED, sold)
            await self._save(tx, reservation, version, events.INVENTORY_COMMITTED)
            return reservation, True

        reservation = await self._run(work)
        if shortfall:
            log.error(
                "not enough stock for a paid order's lines; committed what was held instead",
                extra={"order_id": order_id, "shortfall": dict(shortfall)},
            )
        return reservation

    async def _finish(self, order_id: str, status: ReservationStatus) -> Reservation:
        order_id = check_order_id(order_id)

        async def work(tx: Transaction) -> tuple[Reservation, bool]:
            existing, version = await _held(tx, order_id)
            if status is ReservationStatus.RELEASED:
                check_can_release(existing)
            else:
                check_can_commit(existing)
            if existing.status is status:
                return existing, False
            for line in existing.lines:
                if status is ReservationStatus.RELEASED:
                    await tx.return_stock(line.item_id, line.quantity)
                else:
                    await tx.consume_reserved(line.item_id, line.quantity)
            reservation = Reservation(order_id, status, existing.lines)
            event_type = (
                events.INVENTORY_RELEASED
                if status is ReservationStatus.RELEASED
                else events.INVENTORY_COMMITTED
            )
            await self._save(tx, reservation, version, event_type)
            return reservation, True

        return await self._run(work)

    async def _run(
        self, work: Callable[[Transaction], Awaitable[tuple[Reservation, bool]]]
    ) -> Reservation:
        """Runs ``work`` in one transaction; it answers the reservation and whether it wrote
        anything. Wakes the outbox relay after a change."""
        reservation, changed = await self.db.run(work)
        if changed:
            self.notify()
        return reservation

    async def _save(
        self, tx: Transaction, reservation: Reservation, version: int | None, event_type: str
    ) -> None:
        await tx.save_reservation(reservation, version)
        data = events.reservation_data(reservation)
        await tx.add_event(self.events.make(event_type, reservation.order_id, data))


async def _held(tx: Transaction, order_id: str) -> tuple[Reservation, int]:
    found = await tx.get_reservation(order_id)
    if found is None:
        raise reservation_not_found(order_id)
    return found


def _requantified(line: ReservationLine, quantity: int) -> ReservationLine:
    return ReservationLine(line.item_id, line.name, line.upc, quantity, line.unit_price)
