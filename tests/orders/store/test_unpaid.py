"""The sweep of unpaid orders on Apache Cassandra, with payments' and items' HTTP answers from
respx (issue 10, item 4): it reconciles unpaid orders with what payments knows, and cancels only
those past the payment window with nothing in flight and nothing captured."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import graphql
import pytest
import respx

from shopkit.auth import Identity
from shopkit.service_client import ServiceClient
from shopkit.settings import REPO_ROOT
from subgraphs.orders.domain.model import LineRequest, Order, OrderStatus
from subgraphs.orders.domain.transitions import PaymentOutcome
from subgraphs.orders.events.handlers import payment_handlers
from subgraphs.orders.service.items import ItemsStock
from subgraphs.orders.service.orders import OrderService
from subgraphs.orders.service.payments import PAYMENTS_OF_ORDERS, PaymentsClient
from subgraphs.orders.service.unpaid import SweepResult, UnpaidOrders
from tests.orders.conftest import Cql, payment_succeeded
from tests.support.http import http_client
from tests.support.items_mock import ITEMS_URL, ItemsMock
from tests.support.payments_mock import PAYMENTS_URL, PaymentsMock

ALICE = Identity(account_id="6a3c3b1e-0c1e-4f7e-9a39-8f9c7c1e2d11", role="CUSTOMER")


@dataclass
class Setup:
    service: OrderService
    unpaid: UnpaidOrders
    payments: PaymentsMock
    cql: Cql


@pytest.fixture
async def setup(cql: Cql) -> AsyncIterator[Setup]:
    items = ItemsMock()
    items.add("pen", 250, stock=100)
    payments = PaymentsMock()
    with respx.mock(assert_all_called=False) as router:
        router.post(ITEMS_URL).mock(side_effect=items)
        router.post(PAYMENTS_URL).mock(side_effect=payments)
        async with http_client() as http:

            def client(url: str) -> ServiceClient:
                return ServiceClient(
                    url=url, caller="orders", secret="s" * 32, http=http, backoff=0.01
                )

            service = OrderService(
                cql.store, ItemsStock(client(ITEMS_URL)), payment_window=timedelta(0)
            )
            unpaid = UnpaidOrders(
                service, PaymentsClient(client(PAYMENTS_URL)), reconcile_after=timedelta(0)
            )
            yield Setup(service, unpaid, payments, cql)


async def place(setup: Setup) -> Order:
    return await setup.service.create_order(ALICE, [LineRequest("pen", 2)])


async def status(setup: Setup, order: Order) -> OrderStatus:
    stored = await setup.cql.store.get(order.id)
    assert stored is not None
    return stored.status


async def outbox(setup: Setup, order: Order) -> list[dict]:
    return [json.loads(m.value) for m in await setup.cql.outbox.pending(1000) if m.key == order.id]


async def test_an_order_with_nothing_in_flight_or_captured_expires(setup):
    never = await place(setup)
    failed_then_refunded = await place(setup)
    setup.payments.add(failed_then_refunded.id, "FAILED", 500)
    setup.payments.add(failed_then_refunded.id, "REFUNDED", 500, refunded=500)
    assert await setup.unpaid.sweep() == SweepResult(expired=2)
    for order in (never, failed_then_refunded):
        assert await status(setup, order) == OrderStatus.CANCELLED
    assert await setup.unpaid.sweep() == SweepResult()  # both left the expiry index


@pytest.mark.parametrize(
    ("state", "refunded"),
    [("PENDING", 0), ("SOMETHING_NEW", 0), ("PARTIALLY_REFUNDED", 100)],
)
async def test_an_order_whose_payment_is_in_flight_or_unknown_or_holds_money_is_left(
    setup, state, refunded
):
    order = await place(setup)
    setup.payments.add(order.id, "FAILED", 500)
    setup.payments.add(order.id, state, 500, refunded=refunded)
    for _ in range(3):
        result = await setup.unpaid.sweep()
        assert result.expired == 0
        assert result.paid == 0
    assert await status(setup, order) == OrderStatus.PENDING_PAYMENT


async def test_nothing_is_cancelled_while_payments_cannot_be_asked(setup):
    order = await place(setup)
    setup.payments.down = True
    assert await setup.unpaid.sweep() == SweepResult(unanswered=1)
    assert await status(setup, order) == OrderStatus.PENDING_PAYMENT
    setup.payments.down = False
    assert await setup.unpaid.sweep() == SweepResult(expired=1)


async def test_an_order_whose_payment_event_was_lost_is_paid_once(setup):
    order = await place(setup)
    payment_id = setup.payments.add(order.id, "SUCCEEDED", 500)
    assert await setup.unpaid.sweep() == SweepResult(paid=1)
    assert await status(setup, order) == OrderStatus.PAID
    assert await setup.unpaid.sweep() == SweepResult()
    # The event arriving late, under its own id, changes nothing.
    late = payment_succeeded(order.id, payment_id, 500)
    await payment_handlers(setup.service)["payment.succeeded"](late)
    assert [e["type"] for e in await outbox(setup, order)] == ["order.created", "order.paid"]


async def test_a_payment_failed_order_whose_retry_succeeded_without_its_event_is_paid(setup):
    order = await place(setup)
    await setup.service.apply_payment("f1", PaymentOutcome.FAILED, order.id)
    setup.payments.add(order.id, "FAILED", 500)
    setup.payments.add(order.id, "SUCCEEDED", 500)
    assert await setup.unpaid.sweep() == SweepResult(paid=1)
    assert await status(setup, order) == OrderStatus.PAID


async def test_a_lost_payment_of_another_amount_is_refused_and_the_order_waits_for_its_refund(
    setup,
):
    order = await place(setup)
    payment_id = setup.payments.add(order.id, "SUCCEEDED", 250)
    assert await setup.unpaid.sweep() == SweepResult(refused=1)
    assert await setup.unpaid.sweep() == SweepResult(waiting=1)  # payments is refunding it
    assert await status(setup, order) == OrderStatus.PENDING_PAYMENT
    (refusal,) = [e for e in await outbox(setup, order) if e["type"] == "order.payment_refused"]
    assert refusal["data"]["paymentId"] == payment_id
    assert refusal["data"]["amount"] == {"amount": 250, "currency": "EUR"}
    setup.payments.by_order[order.id][0]["status"] = "REFUNDED"
    setup.payments.by_order[order.id][0]["refunded"]["amount"] = 250
    assert await setup.unpaid.sweep() == SweepResult(expired=1)


async def test_orders_are_asked_about_in_batches(setup):
    orders = [await place(setup) for _ in range(3)]
    setup.unpaid.batch = 2
    await setup.unpaid.sweep()
    assert sorted(len(ids) for ids in setup.payments.asked) == [1, 2]
    assert {i for ids in setup.payments.asked for i in ids} == {o.id for o in orders}


def test_the_question_asked_is_valid_against_the_payments_schema():
    """The query of ``PaymentsClient`` against payments' committed SDL (its contract): a change
    of payments' API that breaks the sweep fails here, not in production."""
    federation = (
        "directive @link(url: String!, import: [String]) repeatable on SCHEMA\n"
        "directive @key(fields: String!, resolvable: Boolean = true) repeatable "
        "on OBJECT | INTERFACE\n"
        "directive @shareable repeatable on OBJECT | FIELD_DEFINITION\n"
    )
    sdl = (REPO_ROOT / "subgraphs" / "payments" / "schema.graphql").read_text()
    schema = graphql.build_schema(federation + sdl)
    assert graphql.validate(schema, graphql.parse(PAYMENTS_OF_ORDERS)) == []
