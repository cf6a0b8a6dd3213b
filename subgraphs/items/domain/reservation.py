"""Stock reservations: the stock held for one order, and how a new line list changes it.

Counters: ``available`` is what can still be sold, ``reserved`` what open orders hold.
Reserving moves units from available to reserved, releasing moves them back, committing
removes them from reserved (they are sold). Each change of an order's stock is a list of
``StockMove``s, one per item, computed here and applied by the store one item at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from shopkit import order_lines
from shopkit.errors import Conflict, InvalidInput
from shopkit.money import Money
from subgraphs.items.domain.model import check_item_id

_ORDER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


class ReservationStatus(StrEnum):
    HELD = "HELD"
    RELEASED = "RELEASED"
    COMMITTED = "COMMITTED"


@dataclass(frozen=True)
class ReservationLine:
    item_id: str
    name: str
    upc: str
    quantity: int
    unit_price: Money


@dataclass(frozen=True)
class Reservation:
    order_id: str
    status: ReservationStatus
    lines: list[ReservationLine]

    def quantities(self) -> dict[str, int]:
        return {line.item_id: line.quantity for line in self.lines}


@dataclass(frozen=True)
class StockMove:
    """Units added to one item's ``available`` and ``reserved`` counters (negative: taken
    away; a move never takes a counter below zero). ``fallback`` is the move to make instead
    when this one would take more than is available."""

    item_id: str
    available: int
    reserved: int
    fallback: StockMove | None = None

    @property
    def takes_stock(self) -> bool:
        return self.available < 0


def check_order_id(value: str) -> str:
    if not isinstance(value, str) or not _ORDER_ID.match(value):
        raise InvalidInput(f"{value!r} is not a valid order id.", field="orderId")
    return value


def merge_lines(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """The wanted quantity per item, by the kit's rule for an order's lines
    (``shopkit/order_lines.py``), with items' own id check (ids are normalised to lower case,
    so two spellings of one id are one item)."""
    return order_lines.merge_lines(lines, item_id=lambda value: check_item_id(value, "itemId"))


def stock_deltas(held: dict[str, int], wanted: dict[str, int]) -> dict[str, int]:
    """Units to move from available to reserved per item (negative: back to available)."""
    deltas = {item_id: q - held.get(item_id, 0) for item_id, q in wanted.items()}
    for item_id, q in held.items():
        if item_id not in wanted:
            deltas[item_id] = -q
    return {item_id: d for item_id, d in deltas.items() if d != 0}


def reserve_moves(held: dict[str, int], wanted: dict[str, int]) -> list[StockMove]:
    """Holding ``wanted`` instead of ``held``: units go from available to reserved (or back)."""
    return [
        StockMove(item_id, -delta, delta) for item_id, delta in stock_deltas(held, wanted).items()
    ]


def release_moves(reservation: Reservation) -> list[StockMove]:
    return [StockMove(line.item_id, line.quantity, -line.quantity) for line in reservation.lines]


def commit_moves(reservation: Reservation) -> list[StockMove]:
    return [StockMove(line.item_id, 0, -line.quantity) for line in reservation.lines]


def paid_moves(held: dict[str, int], paid: dict[str, int]) -> list[StockMove]:
    """Selling exactly the ``paid`` lines of a reservation that holds ``held``: each item's
    held units leave ``reserved``, a surplus goes back to available, a shortfall is taken
    from available. When that many are not available, the fallback sells what was held (the
    available counter never goes below zero)."""
    moves = []
    for item_id in [*paid, *(i for i in held if i not in paid)]:
        want, have = paid.get(item_id, 0), held.get(item_id, 0)
        fallback = StockMove(item_id, 0, -have) if want > have and have else None
        moves.append(StockMove(item_id, have - want, -have, fallback))
    return moves


def check_can_reserve(existing: Reservation | None, wanted: dict[str, int]) -> None:
    """A released reservation is final; a committed one only accepts the same lines again."""
    if existing is None or existing.status is ReservationStatus.HELD:
        return
    if existing.status is ReservationStatus.COMMITTED and existing.quantities() == wanted:
        return
    raise _refused(existing, f"is already {existing.status.value.lower()}")


def check_can_release(reservation: Reservation) -> None:
    if reservation.status is ReservationStatus.COMMITTED:
        raise _refused(reservation, "is committed; its stock is sold and cannot be released")


def check_can_commit(reservation: Reservation) -> None:
    if reservation.status is ReservationStatus.RELEASED:
        raise _refused(reservation, "was released and cannot be committed")


def _refused(reservation: Reservation, why: str) -> Conflict:
    """What a request that the reservation's status refuses is answered: ``CONFLICT`` with
    the order and the status."""
    return Conflict(
        f"The reservation for order {reservation.order_id} {why}.",
        orderId=reservation.order_id,
        status=reservation.status.value,
    )


def not_enough_stock(item_id: str, name: str, available: int) -> Conflict:
    return Conflict(f"Only {available} of {name} available.", itemId=item_id, available=available)
