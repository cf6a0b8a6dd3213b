"""How a change of an order is written, whichever use case makes it.

Every change is a compare-and-set on the order's version (the store's lightweight
transaction) that writes the new state, its history entry and its event together. A change
that loses a race re-reads the order and decides again (at most ``MAX_ATTEMPTS`` times, then
``CONFLICT``), so a concurrent change is never overwritten and an illegal transition is
refused with the status that won.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, replace
from datetime import UTC, datetime

from shopkit.events import CloudEvent, DomainEvent, cloud_event
from subgraphs.orders.domain.events import ANNOUNCES, PRODUCER
from subgraphs.orders.domain.model import Order, OrderStatus
from subgraphs.orders.service.ports import OrderStore

MAX_ATTEMPTS = 20


def order_cloud_event(event: DomainEvent, at: datetime) -> CloudEvent:
    """The CloudEvent of an order's domain event at ``at``. Its id is time-based (UUID v1):
    it is the clustering key of the event's row in the order's partition (the CQL outbox), so
    the events of an order are kept in the order they were written."""
    return cloud_event(event, producer=PRODUCER, id=str(uuid.uuid1()), time=at)


def now() -> datetime:
    # Cassandra timestamps have millisecond precision: keep the model equal to what is stored.
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(eq=False)
class OrderWriter:
    """Writes a change of an order (its status, or its lines) with the event that announces
    it, and tells the live status feed."""

    store: OrderStore
    _: KW_ONLY
    notify: Callable[[], None]
    clock: Callable[[], datetime]

    async def apply(
        self,
        order: Order,
        target: OrderStatus,
        reason: str | None,
        applied: frozenset[str] = frozenset(),
    ) -> Order | None:
        """``order`` (as read) moved to ``target``, with ``applied`` (event ids, payment
        marks) recorded in the same write; None if the order changed since it was read."""
        at = self.clock()
        changed = order.moved_to(target, at, reason)
        changed = replace(changed, applied_events=order.applied_events | applied)
        event = order_cloud_event(ANNOUNCES[target](changed, order.status, reason), at)
        return changed if await self.write(order, changed, event, applied) else None

    async def write(
        self,
        order: Order,
        changed: Order,
        event: CloudEvent,
        applied: frozenset[str] = frozenset(),
        *,
        replace_lines: bool = False,
    ) -> bool:
        """Writes ``changed`` and ``event`` (and its lines if ``replace_lines``) if ``order``
        (as read) is still the stored version, and tells the live status feed; whether it
        applied."""
        if not await self.store.transition(
            changed, order.version, event, replace_lines=replace_lines, applied_events=applied
        ):
            return False
        self.notify()
        return True
