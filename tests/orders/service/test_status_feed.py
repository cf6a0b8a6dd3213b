"""The live order status feed (``service/status_feed.py``) against an in-memory store: what a
subscriber is sent, when the feed ends, and who is refused. The fan-out is woken by hand here,
as its Kafka consumer does for each order event (tests/shopkit/test_fanout.py proves that
part on a real broker)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from shopkit.auth import Identity
from shopkit.errors import NotFound, RateLimited, Unauthenticated, Unavailable
from shopkit.events.fanout import KeyedFanout
from subgraphs.orders.domain.model import Money, Order, OrderLine, OrderStatus
from subgraphs.orders.service.orders import OrderService
from subgraphs.orders.service.status_feed import RESTARTING, TOKEN_EXPIRED, OrderStatusFeed
from tests.orders.fakes import FakeOrderStore

ALICE = Identity(account_id="alice", role="CUSTOMER")
BOB = Identity(account_id="bob", role="CUSTOMER")
ADMIN = Identity(account_id="root", role="ADMIN")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def an_order(customer: str = "alice") -> Order:
    return Order(
        id=str(uuid.uuid4()),
        customer_id=customer,
        status=OrderStatus.PENDING_PAYMENT,
        version=1,
        lines=(OrderLine("pen", 1, Money(250, "EUR"), name="Pen"),),
        currency="EUR",
        created_at=NOW,
        updated_at=NOW,
    ).moved_to(OrderStatus.PENDING_PAYMENT, NOW)


class Feed:
    def __init__(self, max_total: int = 100, max_per_owner: int = 10) -> None:
        self.store = FakeOrderStore()
        self.fanout = KeyedFanout(
            "unused:9092", "shop.order", max_total=max_total, max_per_owner=max_per_owner
        )
        self.now = 1_000.0
        self.feed = OrderStatusFeed(
            OrderService(self.store, None),  # type: ignore[arg-type]
            self.fanout,
            clock=lambda: self.now,
        )

    def add(self, order: Order) -> Order:
        self.store.orders[order.id] = order
        return order

    def move(self, order_id: str, *statuses: OrderStatus) -> None:
        order = self.store.orders[order_id]
        for n, status in enumerate(statuses):
            order = order.moved_to(status, NOW + timedelta(seconds=n + 1))
        self.store.orders[order_id] = order


async def next_status(stream: AsyncIterator[Order]) -> OrderStatus:
    return (await asyncio.wait_for(anext(stream), 2)).status


async def test_sends_the_current_status_at_once_then_each_change_and_ends_after_refund():
    feed = Feed()
    order = feed.add(an_order())
    stream = feed.feed.follow(ALICE, order.id)
    assert await next_status(stream) is OrderStatus.PENDING_PAYMENT
    feed.move(order.id, OrderStatus.PAID)
    feed.fanout.wake(order.id)
    assert await next_status(stream) is OrderStatus.PAID
    # Two changes between two wakes: both are sent, in order.
    feed.move(order.id, OrderStatus.CANCELLED, OrderStatus.REFUNDED)
    feed.fanout.wake(order.id)
    assert await next_status(stream) is OrderStatus.CANCELLED
    assert await next_status(stream) is OrderStatus.REFUNDED
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(stream), 2)
    assert feed.fanout.open_watches == 0


async def test_a_wake_without_a_status_change_sends_nothing():
    feed = Feed()
    order = feed.add(an_order())
    stream = feed.feed.follow(ALICE, order.id)
    await next_status(stream)
    feed.fanout.wake(order.id)  # a redelivered event, or one about another field
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    feed.move(order.id, OrderStatus.PAYMENT_FAILED)
    feed.fanout.wake(order.id)
    assert (await asyncio.wait_for(waiting, 2)).status is OrderStatus.PAYMENT_FAILED


async def test_an_unpaid_order_that_is_cancelled_ends_the_feed():
    feed = Feed()
    order = feed.add(an_order())
    feed.move(order.id, OrderStatus.CANCELLED)
    stream = feed.feed.follow(ALICE, order.id)
    assert await next_status(stream) is OrderStatus.CANCELLED
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_another_customer_is_told_what_an_unknown_order_gets():
    feed = Feed()
    order = feed.add(an_order())
    with pytest.raises(NotFound) as someone_elses:
        await anext(feed.feed.follow(BOB, order.id))
    unknown_id = str(uuid.uuid4())
    with pytest.raises(NotFound) as unknown:
        await anext(feed.feed.follow(BOB, unknown_id))
    assert someone_elses.value.message.replace(order.id, "X") == unknown.value.message.replace(
        unknown_id, "X"
    )
    assert feed.fanout.open_watches == 0


async def test_an_anonymous_caller_or_a_service_is_refused_before_any_read():
    feed = Feed()
    order = feed.add(an_order())
    for who in (Identity(), Identity(service="payments")):
        with pytest.raises(Unauthenticated):
            await anext(feed.feed.follow(who, order.id))


async def test_an_admin_may_follow_any_order():
    feed = Feed()
    order = feed.add(an_order())
    assert await next_status(feed.feed.follow(ADMIN, order.id)) is OrderStatus.PENDING_PAYMENT


async def test_a_token_that_expires_ends_the_feed_with_unauthenticated():
    feed = Feed()
    order = feed.add(an_order())
    expiring = Identity(account_id="alice", role="CUSTOMER", expires_at=feed.now + 0.2)
    stream = feed.feed.follow(expiring, order.id)
    await next_status(stream)
    feed.now += 0.2
    with pytest.raises(Unauthenticated) as expired:
        await asyncio.wait_for(anext(stream), 2)
    assert expired.value.message == TOKEN_EXPIRED
    assert feed.fanout.open_watches == 0
    with pytest.raises(Unauthenticated):
        await anext(feed.feed.follow(expiring, order.id))


async def test_subscriptions_past_the_caps_are_refused():
    feed = Feed(max_total=5, max_per_owner=3)
    order = feed.add(an_order())
    open_ones = [feed.feed.follow(ALICE, order.id) for _ in range(3)]
    for stream in open_ones:
        await next_status(stream)
    with pytest.raises(RateLimited):
        await anext(feed.feed.follow(ALICE, order.id))
    admins = [feed.feed.follow(ADMIN, order.id) for _ in range(2)]
    for stream in admins:
        await next_status(stream)
    with pytest.raises(RateLimited):  # the process's total
        await anext(feed.feed.follow(BOB, feed.add(an_order("bob")).id))
    first = open_ones[0]
    assert isinstance(first, AsyncGenerator)
    await first.aclose()
    assert feed.fanout.open_watches == 4
    assert await next_status(feed.feed.follow(ALICE, order.id)) is OrderStatus.PENDING_PAYMENT


async def test_a_stopping_process_ends_every_feed_with_unavailable():
    feed = Feed()
    order = feed.add(an_order())
    stream = feed.feed.follow(ALICE, order.id)
    await next_status(stream)
    feed.fanout.close_all()
    with pytest.raises(Unavailable) as stopping:
        await asyncio.wait_for(anext(stream), 2)
    assert stopping.value.message == RESTARTING
    with pytest.raises(Unavailable):
        await anext(feed.feed.follow(ALICE, order.id))
