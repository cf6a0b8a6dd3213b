"""Order use cases: place, change, cancel, complete, read, react to payments, expire.

Every change is a compare-and-set on the order's version (the store's lightweight
transaction) that writes the new state, its history entry and its event together. A change
that loses a race re-reads the order and decides again, so a concurrent change is never
overwritten and an illegal transition is refused with the status that won.

Stock: an order's lines are reserved through items before the order is stored (one
``reserveStock`` call, all or nothing). If storing fails after the reservation, the
reservation is released at once. An update reserves its new lines before it stores them;
if it ends without storing them (too many concurrent changes, a failed write, lines refused
on a retry) while the order still awaits payment, the reservation is set back to the stored
lines. If its write lost to a payment, items commits the lines ``order.paid`` carries,
whatever was held. A cancelled order's stock is released by items when it
consumes ``order.cancelled`` (no direct call: the event is already guaranteed by the outbox,
and ``releaseStock`` is idempotent should both ever happen).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shopkit.auth import Identity
from shopkit.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from subgraphs.orders.domain.lines import normalize_lines, single_currency
from subgraphs.orders.domain.model import (
    AWAITING_PAYMENT,
    MAX_REASON,
    Address,
    HistoryEntry,
    LineRequest,
    Order,
    OrderStatus,
)
from subgraphs.orders.domain.transitions import (
    EVENT_FOR_STATUS,
    Command,
    PaymentOutcome,
    after_payment,
    next_status,
)
from subgraphs.orders.service.events import order_event
from subgraphs.orders.service.ports import OrderStore, StockClient

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20
EXPIRED_REASON = "payment window expired"
IDEMPOTENCY_WAIT_SECONDS = 10.0
MAX_PAGE = 100


def _now() -> datetime:
    # Cassandra timestamps have millisecond precision: keep the model equal to what is stored.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class OrderService:
    def __init__(
        self,
        store: OrderStore,
        stock: StockClient,
        *,
        payment_window: timedelta = timedelta(minutes=30),
        notify: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.stock = stock
        self.payment_window = payment_window
        self.notify = notify
        self.clock = clock

    # -- reads -----------------------------------------------------------------------------

    async def get_order(self, identity: Identity, order_id: str) -> Order:
        order = await self._load(order_id)
        self._check_access(identity, order)
        return order

    async def find_order(self, identity: Identity, order_id: str) -> Order | None:
        """The order if it exists and the caller may see it (for entity references)."""
        try:
            return await self.get_order(identity, order_id)
        except (NotFound, Forbidden, Unauthenticated):
            return None

    async def customer_orders(
        self, identity: Identity, customer_id: str, first: int, after: str | None
    ) -> tuple[list[Order], str | None]:
        if not identity.is_authenticated and not identity.is_service:
            raise Unauthenticated("You must be logged in.")
        if not identity.can_access_account(customer_id):
            raise Forbidden("You may only see your own orders.")
        if not 1 <= first <= MAX_PAGE:
            raise InvalidInput(f"first must be between 1 and {MAX_PAGE}; got {first}.")
        ids, cursor = await self.store.customer_orders(customer_id, first, after)
        orders = await asyncio.gather(*(self.store.get(i) for i in ids))
        return [o for o in orders if o is not None], cursor

    # -- commands --------------------------------------------------------------------------

    async def create_order(
        self,
        identity: Identity,
        lines: Sequence[LineRequest],
        shipping_address: Address | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        customer_id = self._customer(identity)
        wanted = normalize_lines(lines)
        order_id = str(uuid.uuid4())
        key = idempotency_key.strip() if idempotency_key is not None else None
        if key is not None:
            if not 1 <= len(key) <= 200:
                raise InvalidInput("The idempotency key must have 1 to 200 characters.")
            while True:
                holder = await self.store.claim_idempotency_key(customer_id, key, order_id)
                if holder == order_id:
                    break
                existing = await self._wait_for(holder, customer_id, key)
                if existing is not None:
                    return existing
        try:
            order = await self._place(order_id, customer_id, wanted, shipping_address)
        except BaseException:
            if key is not None:
                await self.store.drop_idempotency_key(customer_id, key, order_id)
            raise
        self.notify()
        return order

    async def _wait_for(self, order_id: str, customer_id: str, key: str) -> Order | None:
        """The order of another request holding the key, once stored; None if that request
        gave the key up (the caller then tries to claim it)."""
        deadline = asyncio.get_running_loop().time() + IDEMPOTENCY_WAIT_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            order = await self.store.get(order_id)
            if order is not None:
                return order
            holder = await self.store.claim_idempotency_key(customer_id, key, order_id)
            if holder != order_id:
                return None
            await asyncio.sleep(0.05)
        raise Conflict("An order with this idempotency key is still being placed; retry later.")

    async def _place(
        self,
        order_id: str,
        customer_id: str,
        wanted: Sequence[LineRequest],
        shipping_address: Address | None,
    ) -> Order:
        priced = await self.stock.reserve(order_id, wanted)
        try:
            currency = single_currency(priced)
            now = self.clock()
            order = Order(
                id=order_id,
                customer_id=customer_id,
                status=OrderStatus.PENDING_PAYMENT,
                version=1,
                lines=tuple(priced),
                currency=currency,
                created_at=now,
                updated_at=now,
                shipping_address=shipping_address,
                history=(HistoryEntry(OrderStatus.PENDING_PAYMENT, now, "placed"),),
            )
            event = order_event("order.created", order, now, None)
            await self.store.create(order, event)
        except BaseException:
            await self._release_quietly(order_id)
            raise
        return order

    async def _release_quietly(self, order_id: str) -> None:
        try:
            await self.stock.release(order_id)
        except Exception:
            log.warning("could not release stock of an order not placed", exc_info=True)

    async def update_order(
        self, identity: Identity, order_id: str, lines: Sequence[LineRequest]
    ) -> Order:
        wanted = normalize_lines(lines)
        order = await self._load(order_id)
        self._check_access(identity, order)
        reserved = False
        try:
            for _ in range(MAX_ATTEMPTS):
                next_status(order.id, order.status, Command.UPDATE)
                priced = await self.stock.reserve(order.id, wanted)
                reserved = True
                currency = single_currency(priced)
                now = self.clock()
                updated = order.moved_to(OrderStatus.PENDING_PAYMENT, now, "lines changed")
                updated = replace(updated, lines=tuple(priced), currency=currency)
                event = order_event("order.updated", updated, now, order.status)
                if await self.store.transition(updated, order.version, event, replace_lines=True):
                    self.notify()
                    return updated
                order = await self._load(order_id)
                if order.status not in AWAITING_PAYMENT:
                    # Paid or cancelled meanwhile: it keeps its lines; refusing below says why.
                    next_status(order.id, order.status, Command.UPDATE)
            raise Conflict(f"Order {order_id} is changing too often; try again.")
        except Exception:
            if reserved:
                await self._restore_reservation(order_id)
            raise

    async def _restore_reservation(self, order_id: str) -> None:
        """After an update that reserved its lines but did not store them: hold the stored
        lines again while the order awaits payment. A paid order needs nothing (items commits
        the lines of ``order.paid``), nor a cancelled one (items releases on
        ``order.cancelled``)."""
        try:
            order = await self.store.get(order_id, serial=True)
            if order is None or order.status not in AWAITING_PAYMENT:
                return
            kept = [LineRequest(line.item_id, line.quantity) for line in order.lines]
            await self.stock.reserve(order_id, kept)
        except Exception:
            log.error(
                "could not restore the reservation of an order whose update failed",
                extra={"order_id": order_id},
                exc_info=True,
            )

    async def cancel_order(
        self, identity: Identity, order_id: str, reason: str | None = None
    ) -> Order:
        order = await self._load(order_id)
        self._check_access(identity, order)
        who = "admin" if identity.is_admin else "service" if identity.is_service else "customer"
        reason = (reason or "").strip()
        if len(reason) > MAX_REASON:
            raise InvalidInput(f"The reason is longer than {MAX_REASON} characters.")
        reason = reason or f"cancelled by the {who}"
        return await self._command(order, Command.CANCEL, reason)

    async def complete_order(self, identity: Identity, order_id: str) -> Order:
        if not identity.is_admin:
            raise Forbidden("Only an admin may complete an order.")
        return await self._command(await self._load(order_id), Command.COMPLETE, None)

    async def _command(self, order: Order, command: Command, reason: str | None) -> Order:
        for _ in range(MAX_ATTEMPTS):
            target = next_status(order.id, order.status, command)
            changed = await self._apply(order, target, reason)
            if changed is not None:
                return changed
            order = await self._load(order.id)
        raise Conflict(f"Order {order.id} is changing too often; try again.")

    async def _apply(
        self,
        order: Order,
        target: OrderStatus,
        reason: str | None,
        applied_event: str | None = None,
    ) -> Order | None:
        now = self.clock()
        changed = order.moved_to(target, now, reason)
        if applied_event is not None:
            changed = replace(changed, applied_events=order.applied_events | {applied_event})
        event = order_event(EVENT_FOR_STATUS[target], changed, now, order.status, reason)
        applied = await self.store.transition(
            changed, order.version, event, applied_event=applied_event
        )
        if not applied:
            return None
        self.notify()
        return changed

    # -- events and the sweep ---------------------------------------------------------------

    async def apply_payment(self, event_id: str, outcome: PaymentOutcome, order_id: str) -> bool:
        """Applies a payment event once; returns whether the order changed."""
        for _ in range(MAX_ATTEMPTS):
            order = await self.store.get(order_id)
            if order is None:
                log.warning("payment event for an unknown order", extra={"order_id": order_id})
                return False
            if event_id in order.applied_events:
                return False
            target = after_payment(order.status, outcome)
            if target is None:
                log.info(
                    "payment event changes nothing",
                    extra={"order_id": order_id, "status": order.status.value},
                )
                return False
            reason = f"{outcome.value} ({event_id})"
            if await self._apply(order, target, reason, applied_event=event_id) is not None:
                return True
        raise Conflict(f"Order {order_id} is changing too often; the event will be retried.")

    async def expire_unpaid(self) -> int:
        """Cancels orders still unpaid after the payment window; returns how many."""
        cutoff = self.clock() - self.payment_window
        expired = 0
        for order_id in await self.store.awaiting_payment_since(cutoff):
            order = await self.store.get(order_id)
            for _ in range(MAX_ATTEMPTS):
                if order is None or order.status not in AWAITING_PAYMENT:
                    break
                if order.created_at > cutoff:
                    break
                changed = await self._apply(order, OrderStatus.CANCELLED, EXPIRED_REASON)
                if changed is not None:
                    expired += 1
                    order = changed
                    break
                order = await self.store.get(order_id)
            if order is not None and order.status not in AWAITING_PAYMENT:
                await self.store.forget_awaiting(order)
        return expired

    # -- helpers ---------------------------------------------------------------------------

    async def _load(self, order_id: str) -> Order:
        try:
            uuid.UUID(order_id)
        except (ValueError, AttributeError, TypeError):
            raise NotFound(f"Order {order_id} does not exist.")
        order = await self.store.get(order_id)
        if order is None:
            raise NotFound(f"Order {order_id} does not exist.")
        return order

    @staticmethod
    def _customer(identity: Identity) -> str:
        if identity.account_id is None:
            raise Unauthenticated("You must be logged in to order.")
        return identity.account_id

    @staticmethod
    def _check_access(identity: Identity, order: Order) -> None:
        if not identity.is_authenticated and not identity.is_service:
            raise Unauthenticated("You must be logged in.")
        if not identity.can_access_account(order.customer_id):
            raise Forbidden(f"Order {order.id} belongs to another customer.")
