"""Placing an order (``createOrder``): its idempotency key, its stock, its first write.

An order's lines are reserved through items before the order is stored (one
``reserveStock`` call, all or nothing). Every way placing can fail is undone: a reservation
whose outcome is unknown (a timeout: items may still commit it) is released like one that
succeeded, and if storing the order fails, the order is read back at SERIAL consistency
first: an order that was written after all is kept (and answered), one that surely was not
has its stock released and its idempotency key freed, and when even that read fails nothing
is undone blindly (items' sweep releases holds whose order does not exist, and the key's
lease frees the key). An undo that fails is logged and never hides the original error.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timedelta

from shopkit.addresses import Address, RawAddress, parse_address
from shopkit.auth import Identity, require_account
from shopkit.errors import Conflict, NotFound, Unavailable
from shopkit.idempotency import IN_PROGRESS, fingerprint, key_reused, validate_key
from subgraphs.orders.domain.events import OrderCreated
from subgraphs.orders.domain.lines import normalize_lines, single_currency
from subgraphs.orders.domain.model import (
    HistoryEntry,
    KeyHolder,
    LineRequest,
    Order,
    OrderStatus,
)
from subgraphs.orders.service.changes import order_cloud_event
from subgraphs.orders.service.ports import OrderStore, StockClient

log = logging.getLogger(__name__)

IDEMPOTENCY_WAIT_SECONDS = 10.0
# How long a createOrder holds its idempotency key before another request may take it over
# if no order was stored under it; the holder itself gives up at half of it, before storing.
KEY_LEASE = timedelta(seconds=60)


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


@dataclass(eq=False)
class OrderPlacing:
    store: OrderStore
    stock: StockClient
    _: KW_ONLY
    key_lease: timedelta
    notify: Callable[[], None]
    clock: Callable[[], datetime]

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
            claimant = KeyHolder(order_id, now, request)
            holder = await self.store.claim_idempotency_key(customer_id, key, claimant)
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
                    customer_id, key, holder.order_id, claimant
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
