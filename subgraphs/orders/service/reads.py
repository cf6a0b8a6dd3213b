"""Reading orders: one order (``order``, entity references) and a customer's orders, newest
first (``myOrders``, ``Customer.orders``); and who may see an order: its customer, an admin,
another service."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from shopkit.auth import Identity, require_account
from shopkit.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from shopkit.paging import Page, check_first, decode_cursor, encode_cursor, page_of
from subgraphs.orders.domain.model import Order, OrderKey
from subgraphs.orders.service.ports import OrderStore

CURSOR_KIND = "order"


def _order_cursor(key: OrderKey) -> str:
    return encode_cursor(CURSOR_KIND, f"{int(key.created_at.timestamp() * 1000)}:{key.order_id}")


def _order_key(value: str) -> OrderKey:
    """The key an order cursor's value names; ``BAD_USER_INPUT`` if it names none."""
    millis, _, order_id = value.partition(":")
    try:
        return OrderKey(datetime.fromtimestamp(int(millis) / 1000, UTC), str(uuid.UUID(order_id)))
    except (ValueError, OverflowError, OSError):
        raise InvalidInput("The cursor is not valid.", field="after") from None


async def load_order(store: OrderStore, order_id: str) -> Order:
    """The order; ``NOT_FOUND`` if there is none, or the id is not an order id."""
    try:
        uuid.UUID(order_id)
    except (ValueError, AttributeError, TypeError):
        raise NotFound(f"Order {order_id} does not exist.") from None
    order = await store.get(order_id)
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.")
    return order


def check_access(identity: Identity, order: Order) -> None:
    if not identity.is_authenticated and not identity.is_service:
        raise Unauthenticated("You must be logged in.")
    if not identity.can_access_account(order.customer_id):
        raise Forbidden(f"Order {order.id} belongs to another customer.")


class OrderReads:
    def __init__(self, store: OrderStore) -> None:
        self.store = store

    async def get_order(self, identity: Identity, order_id: str) -> Order:
        order = await load_order(self.store, order_id)
        check_access(identity, order)
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
