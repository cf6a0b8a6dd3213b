"""Order use cases: place, change, cancel, complete, read, react to payments, expire.

Every change is a compare-and-set on the order's version (the store's lightweight
transaction) that writes the new state, its history entry and its event together. A change
that loses a race re-reads the order and decides again, so a concurrent change is never
overwritten and an illegal transition is refused with the status that won.

Stock: an order's lines are reserved through items before the order is stored (one
``reserveStock`` call, all or nothing). Every way placing can fail is undone: a reservation
whose outcome is unknown (a timeout: items may still commit it) is released like one that
succeeded, and if storing the order fails, the order is read back at SERIAL consistency
first: an order that was written after all is kept (and answered), one that surely was not
has its stock released and its idempotency key freed, and when even that read fails nothing
is undone blindly (items' sweep releases holds whose order does not exist, and the key's
lease frees the key). An undo that fails is logged and never hides the original error.

An update reserves its new lines before it stores them; if it ends without storing them (too
many concurrent changes, a failed or unknown write, a reservation refused or unanswered on a
retry) while the order still awaits payment, the reservation is set back to the stored lines.
If its write lost to a payment, items commits the lines ``order.paid`` carries, whatever was
held. A cancelled order's stock is released by items when it consumes ``order.cancelled`` (no
direct call: the event is already guaranteed by the outbox, and ``releaseStock`` is
idempotent should both ever happen).

Payments: a succeeded payment pays the order only if it charged exactly its total, else it
is refused (``domain/payments.py``); the sweep of unpaid orders is ``service/unpaid.py``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shopkit.addresses import Address, RawAddress, parse_address
from shopkit.auth import Identity, require_account, require_admin
from shopkit.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from shopkit.events import CloudEvent, DomainEvent, cloud_event
from shopkit.idempotency import IN_PROGRESS, fingerprint, key_reused, validate_key
from shopkit.paging import Page, check_first, decode_cursor, encode_cursor, page_of
from subgraphs.orders.domain.events import (
    ANNOUNCES,
    PRODUCER,
    OrderCreated,
    OrderPaymentRefused,
    OrderUpdated,
)
from subgraphs.orders.domain.lines import normalize_lines, single_currency
from subgraphs.orders.domain.model import (
    AWAITING_PAYMENT,
    MAX_REASON,
    HistoryEntry,
    LineRequest,
    Money,
    Order,
    OrderKey,
    OrderStatus,
)
from subgraphs.orders.domain.payments import payment_mark, pays_for, refusal_reason
from subgraphs.orders.domain.transitions import (
    Command,
    PaymentOutcome,
    after_payment,
    next_status,
)
from subgraphs.orders.service.ports import OrderStore, StockClient

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20
CURSOR_KIND = "order"
EXPIRED_REASON = "payment window expired"
IDEMPOTENCY_WAIT_SECONDS = 10.0
# How long a createOrder holds its idempotency key before another request may take it over
# if no order was stored under it; the holder itself gives up at half of it, before storing.
KEY_LEASE = timedelta(seconds=60)


def order_cloud_event(event: DomainEvent, at: datetime) -> CloudEvent:
    """The CloudEvent of an order's domain event at ``at``. Its id is time-based (UUID v1):
    it is the clustering key of the event's row in the order's partition (the CQL outbox), so
    the events of an order are kept in the order they were written."""
    return cloud_event(event, producer=PRODUCER, id=str(uuid.uuid1()), time=at)


def _order_cursor(key: OrderKey) -> str:
    return encode_cursor(CURSOR_KIND, f"{int(key.created_at.timestamp() * 1000)}:{key.order_id}")


def _order_key(value: str) -> OrderKey:
    """The key an order cursor's value names; ``BAD_USER_INPUT`` if it names none."""
    millis, _, order_id = value.partition(":")
    try:
        return OrderKey(datetime.fromtimestamp(int(millis) / 1000, UTC), str(uuid.UUID(order_id)))
    except (ValueError, OverflowError, OSError):
        raise InvalidInput("The cursor is not valid.", field="after") from None


def _fingerprint(lines: Sequence[LineRequest], address: Address | None) -> str:
    """What a createOrder asked for, as the idempotency rule compares it: its merged lines
    (in order of item id) and its parsed shipping address."""
    return fingerprint(
        "createOrder",
        {
            "lines": sorted([line.item_id, line.quantity] for line in lines),
            "address": address.as_dict() if address is not None else None,
        },
    )


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
        key_lease: timedelta = KEY_LEASE,
        notify: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.stock = stock
        self.payment_window = payment_window
        self.key_lease = key_lease
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

    async def my_orders(self, identity: Identity, first: int, after: str | None) -> Page[Order]:
        """The caller's own orders (``myOrders``): an account must be logged in."""
        account_id = require_account(identity)
        return await self.customer_orders(identity, account_id, first, after)

    async def customer_orders(
        self, identity: Identity, customer_id: str, first: int, after: str | None
    ) -> Page[Order]:
        """A page of a customer's orders, newest first, paged by key (the kit's paging rule):
        the cursor is the order's creation time and id."""
        if not identity.is_authenticated and not identity.is_service:
            raise Unauthenticated("You must be logged in.")
        if not identity.can_access_account(customer_id):
            raise Forbidden("You may only see your own orders.")
        first = check_first(first)
        seek = _order_key(decode_cursor(CURSOR_KIND, after)) if after is not None else None
        keys = await self.store.customer_orders(customer_id, first + 1, seek)
        page = page_of(keys, first=first, cursor_of=_order_cursor)
        orders = await asyncio.gather(*(self.store.get(key.order_id) for _, key in page.edges))
        edges = tuple((c, o) for (c, _), o in zip(page.edges, orders, strict=True) if o)
        return Page(edges, page.has_next_page)

    # -- commands --------------------------------------------------------------------------

    async def create_order(
        self,
        identity: Identity,
        lines: Sequence[LineRequest],
        shipping_address: Address | RawAddress | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        """``shipping_address``: an ``Address``, or its fields as the client sent them (checked
        here by the kit's one address rule, once the caller is known to be logged in)."""
        customer_id = require_account(identity)
        if shipping_address is not None and not isinstance(shipping_address, Address):
            shipping_address = parse_address(shipping_address, "shippingAddress")
        wanted = normalize_lines(lines)
        order_id = str(uuid.uuid4())
        key = validate_key(idempotency_key) if idempotency_key is not None else None
        started = self.clock()
        if key is not None:
            request = _fingerprint(wanted, shipping_address)
            claimed = await self._claim_key(customer_id, key, order_id, request)
            if isinstance(claimed, Order):
                return claimed
            started = claimed
        deadline = started + self.key_lease / 2
        order = await self._place(order_id, customer_id, wanted, shipping_address, key, deadline)
        self.notify()
        return order

    async def _claim_key(
        self, customer_id: str, key: str, order_id: str, request: str
    ) -> Order | datetime:
        """Claims ``key`` for ``order_id``: answers when it was claimed once it is ours, or
        the order another request placed under it.

        A request holding the key waits for that request's order. A holder whose order still
        does not exist (read at SERIAL, so a write in flight is seen) once its lease is over
        failed without freeing the key (freeing failed, or its process died; it gave up
        placing at half the lease): the key is taken over with a conditional update, so a
        failed createOrder never locks its key for the key's whole lifetime.

        A key held for a request of another fingerprint (other lines or address) is refused
        with ``IDEMPOTENCY_KEY_REUSED`` (shopkit.idempotency), whatever became of it.
        """
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + IDEMPOTENCY_WAIT_SECONDS
        while True:
            now = self.clock()
            holder = await self.store.claim_idempotency_key(
                customer_id, key, order_id, now, request
            )
            if holder.order_id == order_id:
                return now
            if holder.fingerprint is not None and holder.fingerprint != request:
                raise key_reused()
            existing = await self.store.get(holder.order_id)
            if existing is not None:
                return existing
            lease_over = holder.claimed_at is None or holder.claimed_at + self.key_lease <= now
            if (
                lease_over
                and await self.store.get(holder.order_id, serial=True) is None
                and await self.store.take_over_idempotency_key(
                    customer_id, key, holder.order_id, order_id, now, request
                )
            ):
                log.warning(
                    "took over an idempotency key whose order was never placed",
                    extra={"order_id": holder.order_id},
                )
                return now
            if loop.time() >= give_up_at:
                raise Conflict(
                    "An order with this idempotency key is still being placed; retry shortly "
                    "with the same key.",
                    reason=IN_PROGRESS,
                )
            await asyncio.sleep(0.05)

    async def _place(
        self,
        order_id: str,
        customer_id: str,
        wanted: Sequence[LineRequest],
        shipping_address: Address | None,
        key: str | None,
        deadline: datetime,
    ) -> Order:
        """Reserves the lines, then stores the order; undoes whatever a failure leaves.

        An order is never stored past ``deadline`` (half the key lease after the request
        started, or claimed its key): past it the request gives up and undoes. So a hold in
        items has its order within that time plus one write's timeout, or never: the grace
        period of items' sweep, which releases holds whose order does not exist, must be
        longer than that (30 s + 20 s by default)."""
        storing = False
        try:
            priced = await self.stock.reserve(order_id, wanted)
            currency = single_currency(priced)
            now = self.clock()
            if now > deadline:
                raise Unavailable(
                    "Placing the order took too long; try again (with the same idempotency "
                    "key, if you gave one)."
                )
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
            event = order_cloud_event(OrderCreated(order, None), now)
            storing = True
            await self.store.create(order, event)
        except Exception:
            if storing:
                stored, known = await self._read_serial(order_id)
                if stored is not None:
                    log.warning("an order whose write failed was stored", extra={"id": order_id})
                    return stored
                if not known:
                    log.error(
                        "could not tell whether an order was stored; its stock and key stay "
                        "until items' sweep and the key's lease free them",
                        extra={"order_id": order_id},
                    )
                    raise
            await asyncio.shield(self._undo_placement(order_id, customer_id, key))
            raise
        except BaseException:  # cancelled: undo only what surely has no order
            if not storing:
                await asyncio.shield(self._undo_placement(order_id, customer_id, key))
            raise
        return order

    async def _read_serial(self, order_id: str) -> tuple[Order | None, bool]:
        """The order read past any write in flight, and whether the read answered."""
        try:
            return await self.store.get(order_id, serial=True), True
        except Exception:
            log.warning("could not read back an order", extra={"id": order_id}, exc_info=True)
            return None, False

    async def _undo_placement(self, order_id: str, customer_id: str, key: str | None) -> None:
        """After a createOrder that stored no order: release what items may hold for it (a
        reservation that failed may still have been taken) and free the idempotency key.
        Each failure is logged: items' sweep releases stock held for an order that does not
        exist, and the key's lease lets the next request take the key."""
        await self._release_quietly(order_id)
        if key is None:
            return
        try:
            await self.store.drop_idempotency_key(customer_id, key, order_id)
        except Exception:
            log.error(
                "could not free the idempotency key of an order not placed; it is taken over "
                "once its lease ends",
                extra={"order_id": order_id},
                exc_info=True,
            )

    async def _release_quietly(self, order_id: str) -> None:
        try:
            await self.stock.release(order_id)
        except NotFound:
            pass  # nothing was held
        except Exception:
            log.warning(
                "could not release the stock of an order not placed; items' sweep will",
                extra={"order_id": order_id},
                exc_info=True,
            )

    async def update_order(
        self, identity: Identity, order_id: str, lines: Sequence[LineRequest]
    ) -> Order:
        require_account(identity)
        wanted = normalize_lines(lines)
        order = await self._load(order_id)
        self._check_access(identity, order)
        reserving = False
        try:
            for _ in range(MAX_ATTEMPTS):
                next_status(order.id, order.status, Command.UPDATE)
                reserving = True  # from here on, items may hold these lines whatever happens
                priced = await self.stock.reserve(order.id, wanted)
                currency = single_currency(priced)
                now = self.clock()
                updated = order.moved_to(OrderStatus.PENDING_PAYMENT, now, "lines changed")
                updated = replace(updated, lines=tuple(priced), currency=currency)
                event = order_cloud_event(OrderUpdated(updated, order.status), now)
                if await self.store.transition(updated, order.version, event, replace_lines=True):
                    self.notify()
                    return updated
                order = await self._load(order_id)
                if order.status not in AWAITING_PAYMENT:
                    # Paid or cancelled meanwhile: it keeps its lines; refusing below says why.
                    next_status(order.id, order.status, Command.UPDATE)
            raise Conflict(f"Order {order_id} is changing too often; try again.")
        except BaseException:
            if reserving:
                await asyncio.shield(self._restore_reservation(order_id))
            raise

    async def _restore_reservation(self, order_id: str) -> None:
        """After an update that may have reserved its lines but did not store them (or cannot
        tell): hold the stored lines again while the order awaits payment (read at SERIAL,
        so a write of ours that did apply is seen and its lines kept). A paid order needs
        nothing (items commits the lines of ``order.paid``), nor a cancelled one (items
        releases on ``order.cancelled``)."""
        try:
            order = await self.store.get(order_id, serial=True)
            if order is None or order.status not in AWAITING_PAYMENT:
                return
            kept = [LineRequest(line.item_id, line.quantity) for line in order.lines]
            await self.stock.reserve(order_id, kept)
        except Exception:
            log.error(
                "could not restore the reservation of an order whose update failed; items "
                "holds other lines until the order is paid or cancelled",
                extra={"order_id": order_id},
                exc_info=True,
            )

    async def cancel_order(
        self, identity: Identity, order_id: str, reason: str | None = None
    ) -> Order:
        require_account(identity)
        order = await self._load(order_id)
        self._check_access(identity, order)
        who = "admin" if identity.is_admin else "service" if identity.is_service else "customer"
        reason = (reason or "").strip()
        if len(reason) > MAX_REASON:
            raise InvalidInput(f"The reason is longer than {MAX_REASON} characters.")
        reason = reason or f"cancelled by the {who}"
        return await self._command(order, Command.CANCEL, reason)

    async def complete_order(self, identity: Identity, order_id: str) -> Order:
        require_admin(identity)
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
        applied: frozenset[str] = frozenset(),
    ) -> Order | None:
        now = self.clock()
        changed = order.moved_to(target, now, reason)
        changed = replace(changed, applied_events=order.applied_events | applied)
        event = order_cloud_event(ANNOUNCES[target](changed, order.status, reason), now)
        if not await self.store.transition(changed, order.version, event, applied_events=applied):
            return None
        self.notify()
        return changed

    # -- payments and expiry ------------------------------------------------------------------

    async def apply_payment(
        self,
        event_id: str | None,
        outcome: PaymentOutcome,
        order_id: str,
        *,
        payment_id: str | None = None,
        amount: Money | None = None,
    ) -> bool:
        """Applies a payment event once, or (``event_id`` None) a succeeded payment the
        sweep found whose event never arrived; returns whether the order changed.

        A succeeded payment needs its id and amount: it pays the order only if it charged
        exactly the order's total, and is refused otherwise. The decision, the event id and
        the payment's mark are written in the same conditional batch, so each payment is
        decided once however often and by whichever path it arrives.
        """
        applied = {event_id} if event_id else set()
        charged: Money | None = None
        if outcome is PaymentOutcome.SUCCEEDED:
            if payment_id is None or amount is None:
                raise InvalidInput("A succeeded payment needs its payment id and amount.")
            applied.add(payment_mark(payment_id))
            charged = amount
        marks = frozenset(applied)
        for _ in range(MAX_ATTEMPTS):
            order = await self.store.get(order_id)
            if order is None:
                log.warning("payment event for an unknown order", extra={"order_id": order_id})
                return False
            if marks & order.applied_events:
                return False
            target = after_payment(order.status, outcome)
            if target is None:
                log.info(
                    "payment event changes nothing",
                    extra={"order_id": order_id, "status": order.status.value},
                )
                return False
            if charged is not None and payment_id is not None and not pays_for(order, charged):
                changed = await self._refuse(order, payment_id, charged, marks)
            else:
                reason = f"{outcome.value} ({event_id or f'payment {payment_id}, reconciled'})"
                changed = await self._apply(order, target, reason, marks)
            if changed is not None:
                return True
        raise Conflict(f"Order {order_id} is changing too often; the event will be retried.")

    async def _refuse(
        self, order: Order, payment_id: str, charged: Money, marks: frozenset[str]
    ) -> Order | None:
        """Refuses a payment that charged other than the order's total: the status stays,
        a history entry says why, and ``order.payment_refused`` tells payments to refund it."""
        now = self.clock()
        why = refusal_reason(order, charged)
        changed = order.moved_to(order.status, now, f"payment {payment_id} refused: {why}")
        changed = replace(changed, applied_events=order.applied_events | marks)
        event = order_cloud_event(OrderPaymentRefused(changed, payment_id, charged, why), now)
        if not await self.store.transition(changed, order.version, event, applied_events=marks):
            return None
        log.warning(
            "refused a payment that does not match the order's total",
            extra={"order_id": order.id, "payment_id": payment_id},
        )
        self.notify()
        return changed

    async def expire(self, order: Order) -> Order | None:
        """Cancels ``order`` as it was read, if it is still unpaid past the payment window
        and nobody changed it since; None otherwise (the sweep looks again next time)."""
        if order.status not in AWAITING_PAYMENT:
            return None
        if order.created_at > self.clock() - self.payment_window:
            return None
        return await self._apply(order, OrderStatus.CANCELLED, EXPIRED_REASON)

    # -- helpers ---------------------------------------------------------------------------

    async def _load(self, order_id: str) -> Order:
        try:
            uuid.UUID(order_id)
        except (ValueError, AttributeError, TypeError):
            raise NotFound(f"Order {order_id} does not exist.") from None
        order = await self.store.get(order_id)
        if order is None:
            raise NotFound(f"Order {order_id} does not exist.")
        return order

    @staticmethod
    def _check_access(identity: Identity, order: Order) -> None:
        if not identity.is_authenticated and not identity.is_service:
            raise Unauthenticated("You must be logged in.")
        if not identity.can_access_account(order.customer_id):
            raise Forbidden(f"Order {order.id} belongs to another customer.")
