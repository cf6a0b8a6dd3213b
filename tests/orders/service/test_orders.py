"""Order use cases against an in-memory store, with items' HTTP answers mocked by respx."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from shopkit.addresses import Address
from shopkit.auth import Identity
from shopkit.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from shopkit.events import CloudEvent
from shopkit.events.schemas import producer_schemas
from shopkit.service_client import ServiceClient
from subgraphs.orders.domain.model import (
    KeyHolder,
    LineRequest,
    Money,
    Order,
    OrderLine,
    OrderStatus,
)
from subgraphs.orders.domain.transitions import PaymentOutcome
from subgraphs.orders.service.changes import MAX_ATTEMPTS
from subgraphs.orders.service.items import ItemsStock
from subgraphs.orders.service.orders import OrderService
from tests.orders.fakes import FakeOrderStore
from tests.support.http import http_client
from tests.support.items_mock import ITEMS_URL, ItemsMock

SCHEMAS = producer_schemas("orders")

ALICE = Identity(account_id="alice", role="CUSTOMER")
BOB = Identity(account_id="bob", role="CUSTOMER")
ADMIN = Identity(account_id="root", role="ADMIN")
PAYMENTS = Identity(service="payments")


@pytest.fixture
def items() -> Iterator[ItemsMock]:
    mock = ItemsMock()
    mock.add("pen", 250, stock=10)
    mock.add("ink", 1000, stock=3)
    mock.add("dollar-pad", 500, currency="USD")
    with respx.mock(assert_all_called=False) as router:
        router.post(ITEMS_URL).mock(side_effect=mock)
        yield mock


@pytest.fixture
async def service(items: ItemsMock) -> AsyncIterator[OrderService]:
    async with http_client() as http:
        client = ServiceClient(
            url=ITEMS_URL, caller="orders", secret="s" * 32, http=http, backoff=0.01
        )
        yield OrderService(FakeOrderStore(), ItemsStock(client))


def store(service: OrderService) -> FakeOrderStore:
    assert isinstance(service.store, FakeOrderStore)
    return service.store


async def place(service: OrderService, who: Identity = ALICE, **kwargs):
    return await service.create_order(who, [LineRequest("pen", 2), LineRequest("ink", 1)], **kwargs)


async def pay(service: OrderService, order: Order, event_id: str = "p1", **kwargs) -> bool:
    """payment.succeeded for the order's total (as payments charges it), or ``amount``."""
    return await service.apply_payment(
        event_id,
        PaymentOutcome.SUCCEEDED,
        order.id,
        payment_id=kwargs.get("payment_id", f"payment-of-{event_id}"),
        amount=kwargs.get("amount", order.total),
    )


async def test_create_prices_lines_and_awaits_payment(service, items):
    order = await place(
        service, shipping_address=Address(line1="1 rue X", city="Lyon", country="FR")
    )
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert [(x.item_id, x.quantity, x.unit_price.amount) for x in order.lines] == [
        ("pen", 2, 250),
        ("ink", 1, 1000),
    ]
    assert order.total.amount == 1500
    assert order.total.currency == "EUR"
    assert await service.get_order(ALICE, order.id) == order
    assert items.stock == {"pen": 8, "ink": 2, "dollar-pad": 100}
    (event,) = store(service).events
    SCHEMAS.validate(event)
    assert event.type == "order.created"
    assert event.data["total"] == {
        "amount": 1500,
        "currency": "EUR",
    }


@pytest.mark.parametrize("quantity", [0, -5, 1001, 2**63])
async def test_bad_quantities_are_refused_before_reserving(service, items, quantity):
    with pytest.raises(InvalidInput, match="between 1 and 1000"):
        await service.create_order(ALICE, [LineRequest("pen", quantity)])
    assert items.calls == []
    assert store(service).orders == {}


async def test_empty_and_oversized_orders_are_refused(service, items):
    with pytest.raises(InvalidInput, match="at least one line"):
        await service.create_order(ALICE, [])
    with pytest.raises(InvalidInput, match="at most 100 lines"):
        await service.create_order(ALICE, [LineRequest(f"i{n}", 1) for n in range(101)])
    assert items.calls == []
    assert store(service).orders == {}


async def test_duplicate_item_ids_are_reserved_as_one_line(service, items):
    order = await service.create_order(ALICE, [LineRequest("pen", 1), LineRequest("pen", 2)])
    assert [(x.item_id, x.quantity) for x in order.lines] == [("pen", 3)]
    assert items.calls[0][1]["lines"] == [{"itemId": "pen", "quantity": 3}]


async def test_unknown_item_is_not_found_and_nothing_is_stored(service):
    with pytest.raises(NotFound, match="Item ghost does not exist") as caught:
        await service.create_order(ALICE, [LineRequest("ghost", 1)])
    assert caught.value.extensions["itemId"] == "ghost"
    assert store(service).orders == {}
    assert store(service).events == []


async def test_more_than_available_names_the_item_and_what_is_available(service, items):
    with pytest.raises(Conflict) as caught:
        await service.create_order(ALICE, [LineRequest("pen", 1), LineRequest("ink", 4)])
    assert caught.value.message == "Not enough stock of item ink: 4 wanted, 3 available."
    assert caught.value.extensions == {"code": "CONFLICT", "itemId": "ink", "available": 3}
    assert store(service).orders == {}
    assert items.stock["pen"] == 10


async def test_shortage_names_the_quantity_wanted_when_items_answers_the_id_in_lower_case():
    item_id = "65AB" * 6
    shortage = {
        "data": None,
        "errors": [
            {
                "message": "Only 2 of Pen available.",
                "extensions": {"code": "CONFLICT", "itemId": item_id.lower(), "available": 2},
            }
        ],
    }
    with respx.mock() as router:
        router.post(ITEMS_URL).mock(return_value=httpx.Response(200, json=shortage))
        async with http_client() as http:
            client = ServiceClient(url=ITEMS_URL, caller="orders", secret="s" * 32, http=http)
            with pytest.raises(Conflict) as caught:
                await ItemsStock(client).reserve("o-1", [LineRequest(item_id, 5)])
    assert caught.value.message == (
        f"Not enough stock of item {item_id.lower()}: 5 wanted, 2 available."
    )


async def test_lines_in_two_currencies_are_refused_and_released(service, items):
    with pytest.raises(InvalidInput, match="one currency"):
        await service.create_order(ALICE, [LineRequest("pen", 1), LineRequest("dollar-pad", 1)])
    assert items.calls[-1][0] == "release"
    assert items.stock["pen"] == 10
    assert store(service).orders == {}


async def test_same_idempotency_key_returns_the_first_order(service, items):
    first = await place(service, idempotency_key="k-1")
    again = await place(service, idempotency_key="k-1")
    other = await place(service, idempotency_key="k-2")
    assert again.id == first.id != other.id
    assert items.reserve_calls() == 2


async def test_a_key_reused_with_other_lines_or_address_is_refused_and_changes_nothing(
    service, items
):
    first = await place(service, idempotency_key="k-1")
    for lines, address in (
        ([LineRequest("pen", 3), LineRequest("ink", 1)], None),
        (
            [LineRequest("pen", 2), LineRequest("ink", 1)],
            {"line1": "1 Main St", "city": "Springfield", "country": "US"},
        ),
    ):
        with pytest.raises(InvalidInput) as info:
            await service.create_order(ALICE, lines, address, idempotency_key="k-1")
        assert info.value.code == "IDEMPOTENCY_KEY_REUSED"
    # The same request again, its lines in another order: the first order, once.
    again = await service.create_order(
        ALICE, [LineRequest("ink", 1), LineRequest("pen", 2)], idempotency_key="k-1"
    )
    assert again.id == first.id
    assert len(store(service).orders) == 1
    assert items.reserve_calls() == 1


async def test_an_idempotency_key_is_scoped_to_its_customer_and_at_most_255_characters(
    service,
):
    mine = await place(service, idempotency_key="k" * 255)
    theirs = await place(service, who=BOB, idempotency_key="k" * 255)
    assert mine.id != theirs.id
    for bad in ("k" * 256, "", "   "):
        with pytest.raises(InvalidInput) as info:
            await place(service, idempotency_key=bad)
        assert info.value.extensions["field"] == "idempotencyKey"
    assert len(store(service).orders) == 2


async def test_failed_create_frees_its_idempotency_key(service, items):
    with pytest.raises(Conflict):
        await service.create_order(ALICE, [LineRequest("ink", 5)], idempotency_key="k")
    items.stock["ink"] = 5
    order = await service.create_order(ALICE, [LineRequest("ink", 5)], idempotency_key="k")
    assert order.lines[0].quantity == 5


async def test_another_customers_order_is_forbidden_and_unchanged(service, items):
    order = await place(service)
    for attempt in (
        service.get_order(BOB, order.id),
        service.update_order(BOB, order.id, [LineRequest("pen", 1)]),
        service.cancel_order(BOB, order.id),
    ):
        with pytest.raises(Forbidden):
            await attempt
    assert await service.find_order(BOB, order.id) is None
    assert store(service).orders[order.id] == order
    assert store(service).types() == ["order.created"]
    assert items.reserve_calls() == 1


async def test_admins_and_services_may_read_any_order(service):
    order = await place(service)
    assert (await service.get_order(ADMIN, order.id)).id == order.id
    assert (await service.get_order(PAYMENTS, order.id)).id == order.id


async def test_unknown_or_malformed_order_ids_are_not_found(service):
    with pytest.raises(NotFound):
        await service.get_order(ALICE, "not-a-uuid")
    with pytest.raises(NotFound):
        await service.get_order(ALICE, "00000000-0000-0000-0000-000000000000")


async def test_update_reserves_the_new_lines_and_emits_order_updated(service, items):
    order = await place(service)
    updated = await service.update_order(ALICE, order.id, [LineRequest("pen", 5)])
    assert [(x.item_id, x.quantity) for x in updated.lines] == [("pen", 5)]
    assert updated.version == 2
    assert updated.total.amount == 1250
    assert items.stock == {"pen": 5, "ink": 3, "dollar-pad": 100}
    assert store(service).types() == ["order.created", "order.updated"]
    assert store(service).events[-1].data["previousStatus"] == "PENDING_PAYMENT"


async def test_update_of_a_paid_order_conflicts_naming_its_status(service, items):
    order = await place(service)
    await pay(service, order, "pay-1")
    with pytest.raises(Conflict) as caught:
        await service.update_order(ALICE, order.id, [LineRequest("pen", 1)])
    assert caught.value.message == (
        f"Order {order.id} is PAID; only PENDING_PAYMENT or PAYMENT_FAILED orders can be updated."
    )
    assert items.reserve_calls() == 1


class RacedStore(FakeOrderStore):
    """Line changes race: before each one is written, the payment of the order fails (or
    it is retried), which moves its version; with ``fail`` the write fails instead."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.lost = 0

    async def transition(
        self, order: Order, expected_version: int, event: CloudEvent, **kwargs: Any
    ) -> bool:
        if kwargs.get("replace_lines"):
            if self.fail:
                raise Unavailable("The order database is unavailable.")
            current = self.orders[order.id]
            flipped = (
                OrderStatus.PAYMENT_FAILED
                if current.status is OrderStatus.PENDING_PAYMENT
                else OrderStatus.PENDING_PAYMENT
            )
            self.orders[order.id] = replace(current, status=flipped, version=current.version + 1)
            self.lost += 1
        return await super().transition(order, expected_version, event, **kwargs)


def reserved_lines(items: ItemsMock, order: Order) -> tuple[dict[str, int], dict[str, int]]:
    """What items holds for the order, and the order's stored lines."""
    return items.reserved[order.id], {x.item_id: x.quantity for x in order.lines}


async def test_an_update_that_keeps_losing_its_write_holds_the_stored_lines_again(service, items):
    raced = OrderService(RacedStore(), service.stock)
    order = await place(raced)
    with pytest.raises(Conflict, match="changing too often"):
        await raced.update_order(ALICE, order.id, [LineRequest("pen", 5)])
    stored = await raced.store.get(order.id)
    assert stored is not None
    assert isinstance(raced.store, RacedStore)
    assert raced.store.lost == MAX_ATTEMPTS
    assert items.calls[-1] == (
        "reserve",
        {
            "orderId": order.id,
            "lines": [{"itemId": "pen", "quantity": 2}, {"itemId": "ink", "quantity": 1}],
        },
    )
    assert reserved_lines(items, stored) == ({"pen": 2, "ink": 1}, {"pen": 2, "ink": 1})
    assert items.stock["pen"] == 8
    assert items.stock["ink"] == 2


async def test_an_update_whose_write_fails_holds_the_stored_lines_again(service, items):
    failing = OrderService(RacedStore(fail=True), service.stock)
    order = await place(failing)
    with pytest.raises(Unavailable):
        await failing.update_order(ALICE, order.id, [LineRequest("pen", 5)])
    stored = await failing.store.get(order.id)
    assert stored is not None
    assert stored.version == 1
    assert reserved_lines(items, stored) == ({"pen": 2, "ink": 1}, {"pen": 2, "ink": 1})
    assert items.stock["pen"] == 8


async def test_cancel_then_cancel_again_conflicts(service):
    order = await place(service)
    cancelled = await service.cancel_order(ALICE, order.id, "changed my mind")
    assert cancelled.status == OrderStatus.CANCELLED
    assert cancelled.history[-1].reason == "changed my mind"
    with pytest.raises(Conflict, match="is CANCELLED"):
        await service.cancel_order(ALICE, order.id)
    assert store(service).types() == ["order.created", "order.cancelled"]
    assert store(service).events[-1].data["reason"] == "changed my mind"


async def test_an_over_long_cancellation_reason_is_refused_and_changes_nothing(service):
    order = await place(service)
    with pytest.raises(InvalidInput, match="reason"):
        await service.cancel_order(ALICE, order.id, "r" * 501)
    assert (await service.store.get(order.id)).status == OrderStatus.PENDING_PAYMENT
    assert store(service).types() == ["order.created"]


async def test_a_paid_order_can_be_cancelled_then_refunded(service):
    order = await place(service)
    await pay(service, order)
    await service.cancel_order(ALICE, order.id)
    assert await service.apply_payment("r1", PaymentOutcome.REFUNDED, order.id)
    final = await service.get_order(ALICE, order.id)
    assert [h.status for h in final.history] == [
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.PAID,
        OrderStatus.CANCELLED,
        OrderStatus.REFUNDED,
    ]
    for event in store(service).events:
        SCHEMAS.validate(event)


async def test_only_admins_complete_paid_orders(service):
    order = await place(service)
    with pytest.raises(Conflict, match="is PENDING_PAYMENT; only PAID"):
        await service.complete_order(ADMIN, order.id)
    await pay(service, order)
    with pytest.raises(Forbidden):
        await service.complete_order(ALICE, order.id)
    assert (await service.complete_order(ADMIN, order.id)).status == OrderStatus.COMPLETED


async def test_a_redelivered_payment_event_applies_once(service):
    order = await place(service)
    results = [
        await service.apply_payment("fail-1", PaymentOutcome.FAILED, order.id) for _ in range(3)
    ]
    assert results == [True, False, False]
    assert store(service).types() == ["order.created", "order.payment_failed"]


async def test_payment_succeeding_for_a_cancelled_order_changes_nothing(service):
    order = await place(service)
    await service.cancel_order(ALICE, order.id)
    assert not await pay(service, order)
    assert (await service.get_order(ALICE, order.id)).status == OrderStatus.CANCELLED


async def test_customers_list_only_their_own_orders_newest_first(service):
    """Newest first by the time each was placed (orders of one millisecond follow their ids,
    tests/orders/store): the clock moves on between the two, as it does between real orders."""
    clock = Clock()
    service = OrderService(store(service), service.stock, clock=clock)
    first = await place(service)
    clock.now += timedelta(seconds=1)
    second = await place(service)
    await place(service, who=BOB)
    page = await service.customer_orders(ALICE, "alice", 1, None)
    assert [o.id for o in page.nodes] == [second.id]
    assert page.has_next_page
    page = await service.customer_orders(ALICE, "alice", 1, page.end_cursor)
    assert [o.id for o in page.nodes] == [first.id]
    assert not page.has_next_page
    with pytest.raises(Forbidden):
        await service.customer_orders(BOB, "alice", 10, None)


async def test_the_service_decides_who_may_call_each_command(service, items):
    """Who may call what is checked here, before any input: only a logged-in account places,
    changes, cancels or lists its orders (a service credential alone is no account), and only
    an admin completes one."""
    order = await place(service)
    bad_address = {"line1": "1 Main St", "city": "Springfield", "country": "not a country code"}
    for caller in (Identity(), PAYMENTS):
        with pytest.raises(Unauthenticated):
            await service.create_order(caller, [LineRequest("pen", 0)], bad_address)
        with pytest.raises(Unauthenticated):
            await service.update_order(caller, order.id, [LineRequest("pen", 0)])
        with pytest.raises(Unauthenticated):
            await service.cancel_order(caller, order.id, "r" * 501)
        with pytest.raises(Unauthenticated):
            await service.my_orders(caller, 0, None)
        with pytest.raises(Unauthenticated):
            await service.complete_order(caller, order.id)
    with pytest.raises(InvalidInput, match="country") as refused:
        await service.create_order(ALICE, [LineRequest("pen", 1)], bad_address)
    assert refused.value.extensions["field"] == "shippingAddress.country"
    assert (await service.get_order(ALICE, order.id)).status == OrderStatus.PENDING_PAYMENT
    assert [o.id for o in (await service.my_orders(ALICE, 10, None)).nodes] == [order.id]
    assert len(store(service).orders) == 1


# -- a payment that does not match the order's total ------------------------------------------


async def test_a_payment_of_another_amount_is_refused_and_the_order_stays_unpaid(service):
    order = await place(service)
    updated = await service.update_order(ALICE, order.id, [LineRequest("pen", 5)])
    assert await pay(service, order, "evt-1", payment_id="pay-A", amount=order.total)
    stored = await service.get_order(ALICE, order.id)
    assert stored.status == OrderStatus.PENDING_PAYMENT
    assert stored.total == updated.total
    assert stored.history[-1].reason == (
        "payment pay-A refused: the payment charged 1500 EUR but the order's total is 1250 EUR"
    )
    refused = store(service).events[-1]
    SCHEMAS.validate(refused)
    assert refused.type == "order.payment_refused"
    assert refused.subject == order.id
    assert refused.data == {
        "orderId": order.id,
        "customerId": "alice",
        "paymentId": "pay-A",
        "amount": {"amount": 1500, "currency": "EUR"},
        "total": {"amount": 1250, "currency": "EUR"},
        "reason": "the payment charged 1500 EUR but the order's total is 1250 EUR",
    }
    assert {"evt-1", "payment:pay-A"} <= stored.applied_events


async def test_a_refused_payment_stays_refused_when_the_total_comes_back_to_its_amount(service):
    order = await place(service)
    await service.update_order(ALICE, order.id, [LineRequest("pen", 5)])
    assert await pay(service, order, "evt-1", payment_id="pay-A", amount=order.total)
    await service.update_order(ALICE, order.id, [LineRequest("pen", 2), LineRequest("ink", 1)])
    # The same event again, or the same payment under another event id: decided already.
    assert not await pay(service, order, "evt-1", payment_id="pay-A", amount=order.total)
    assert not await pay(service, order, "evt-2", payment_id="pay-A", amount=order.total)
    assert (await service.get_order(ALICE, order.id)).status == OrderStatus.PENDING_PAYMENT
    assert store(service).types().count("order.payment_refused") == 1
    # A new payment of the total pays it.
    assert await pay(service, order, "evt-3", payment_id="pay-B", amount=order.total)
    assert (await service.get_order(ALICE, order.id)).status == OrderStatus.PAID


async def test_a_payment_in_another_currency_is_refused(service):
    order = await place(service)
    assert await pay(service, order, amount=Money(order.total.amount, "USD"))
    assert (await service.get_order(ALICE, order.id)).status == OrderStatus.PENDING_PAYMENT
    assert store(service).types()[-1] == "order.payment_refused"


async def test_a_payment_failed_order_refuses_a_mismatched_payment_and_stays_failed(service):
    order = await place(service)
    await service.apply_payment("f1", PaymentOutcome.FAILED, order.id)
    assert await pay(service, order, amount=Money(1, "EUR"))
    stored = await service.get_order(ALICE, order.id)
    assert stored.status == OrderStatus.PAYMENT_FAILED
    assert store(service).types()[-1] == "order.payment_refused"


async def test_a_succeeded_payment_without_its_amount_is_not_applied(service):
    order = await place(service)
    with pytest.raises(InvalidInput, match="payment id and amount"):
        await service.apply_payment("e", PaymentOutcome.SUCCEEDED, order.id, payment_id="p")
    assert (await service.get_order(ALICE, order.id)).status == OrderStatus.PENDING_PAYMENT


# -- placing and changing orders: every failure is undone --------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_reservation_whose_answer_is_lost_is_released(service, items):
    items.lose_reserve_answers = True
    with pytest.raises(Unavailable):
        await place(service)
    assert items.held() == {}
    assert items.stock["pen"] == 10
    assert items.stock["ink"] == 3
    assert items.calls[-1][0] == "release"
    assert store(service).orders == {}


async def test_an_unknown_item_with_a_key_answers_the_real_error_twice_and_frees_the_key(
    service, items
):
    for _ in range(2):
        with pytest.raises(NotFound, match="Item -5848314 does not exist"):
            await service.create_order(ALICE, [LineRequest("-5848314", 675)], idempotency_key="k2")
    assert store(service).keys == {}
    items.add("-5848314", 10, stock=1000)
    order = await service.create_order(ALICE, [LineRequest("-5848314", 675)], idempotency_key="k2")
    assert order.lines[0].quantity == 675


class FailingStore(FakeOrderStore):
    """``create`` fails: after writing the order (``written``) or before; the SERIAL read
    back fails too with ``unreadable``; freeing a key fails with ``keys_stuck``."""

    def __init__(self, *, written: bool = False, unreadable: bool = False) -> None:
        super().__init__()
        self.written = written
        self.unreadable = unreadable
        self.keys_stuck = False

    async def create(self, order: Order, event: CloudEvent) -> None:
        if self.written:
            await super().create(order, event)
        raise Unavailable("The order database is unavailable.")

    async def get(self, order_id: str, *, serial: bool = False) -> Order | None:
        if serial and self.unreadable:
            raise Unavailable("The order database is unavailable.")
        return await super().get(order_id, serial=serial)

    async def drop_idempotency_key(self, customer_id: str, key: str, order_id: str) -> None:
        if self.keys_stuck:
            raise RuntimeError("Some clustering keys are missing")
        await super().drop_idempotency_key(customer_id, key, order_id)


async def test_an_order_whose_write_surely_failed_releases_its_stock_and_frees_its_key(
    service, items
):
    failing = OrderService(FailingStore(), service.stock)
    with pytest.raises(Unavailable, match="database"):
        await place(failing, idempotency_key="k")
    assert items.held() == {}
    assert isinstance(failing.store, FailingStore)
    assert failing.store.keys == {}


async def test_an_order_written_although_its_write_failed_is_answered_and_keeps_its_stock(
    service, items
):
    failing = OrderService(FailingStore(written=True), service.stock)
    order = await place(failing, idempotency_key="k")
    assert await failing.store.get(order.id) == order
    assert items.held() == {order.id: {"pen": 2, "ink": 1}}


async def test_an_order_that_may_have_been_written_keeps_its_stock_and_key(service, items):
    failing = OrderService(FailingStore(unreadable=True), service.stock)
    with pytest.raises(Unavailable, match="database"):
        await place(failing, idempotency_key="k")
    assert len(items.held()) == 1
    assert isinstance(failing.store, FailingStore)
    assert len(failing.store.keys) == 1


async def test_a_key_that_could_not_be_freed_is_taken_over_once_its_lease_is_over(service, items):
    clock = Clock()
    stuck = FailingStore()
    stuck.keys_stuck = True
    failing = OrderService(stuck, service.stock, clock=clock, key_lease=timedelta(seconds=60))
    with pytest.raises(Unavailable, match="database"):  # the real error, not the key's
        await place(failing, idempotency_key="k")
    (holder,) = stuck.keys.values()
    assert items.held() == {}
    stuck.written = True  # the database is back
    clock.now += timedelta(seconds=61)
    order = await place(failing, idempotency_key="k")
    assert stuck.keys[("alice", "k")].order_id == order.id != holder.order_id
    assert await place(failing, idempotency_key="k") == order


async def test_a_key_inside_its_lease_is_waited_for_not_taken(service, items, monkeypatch):
    monkeypatch.setattr("subgraphs.orders.service.placing.IDEMPOTENCY_WAIT_SECONDS", 0.2)
    clock = Clock()
    fake = store(service)
    fake.keys[("alice", "k")] = KeyHolder(str(uuid.uuid4()), clock.now, None)
    waiting = OrderService(fake, service.stock, clock=clock)
    with pytest.raises(Conflict, match="still being placed") as refused:
        await place(waiting, idempotency_key="k")
    # The one rule's answer to a key in progress, as payments gives it (tests/payments).
    assert refused.value.extensions == {"code": "CONFLICT", "reason": "IDEMPOTENCY_IN_PROGRESS"}
    assert items.calls == []


@pytest.mark.parametrize("key", ["k", None])
async def test_placing_that_outlives_half_the_key_lease_gives_up_and_undoes(service, items, key):
    clock = Clock()

    class SlowStock(ItemsStock):
        async def reserve(self, order_id: str, lines: Sequence[LineRequest]) -> list[OrderLine]:
            priced = await super().reserve(order_id, lines)
            clock.now += timedelta(seconds=31)
            return priced

    assert isinstance(service.stock, ItemsStock)
    slow = OrderService(
        store(service),
        SlowStock(service.stock.client),
        clock=clock,
        key_lease=timedelta(seconds=60),
    )
    with pytest.raises(Unavailable, match="took too long"):
        await place(slow, idempotency_key=key)
    assert items.held() == {}
    assert store(service).keys == {}
    assert store(service).orders == {}


async def test_a_failed_release_never_hides_the_error_that_caused_it(service, items):
    items.release_down = True
    with pytest.raises(InvalidInput, match="one currency"):
        await service.create_order(ALICE, [LineRequest("pen", 1), LineRequest("dollar-pad", 1)])


async def test_an_update_whose_reservation_answer_is_lost_holds_the_stored_lines_again(
    service, items
):
    order = await place(service)
    items.lose_reserve_answers = True
    with pytest.raises(Unavailable):
        await service.update_order(ALICE, order.id, [LineRequest("pen", 7)])
    items.lose_reserve_answers = False
    # The restore's own answer was lost too: items holds the stored lines again anyway.
    assert items.held() == {order.id: {"pen": 2, "ink": 1}}
    assert items.stock["pen"] == 8
