"""A charge that succeeds on an order cancelled meanwhile is refunded exactly once even when the
orders service cannot be reached: the ``order.cancelled`` consumer's record in the payments
database is enough, whichever of the event and the charge's commit comes second."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from shopkit.events import CloudEvent
from shopkit.processor import ProcessorError
from subgraphs.payments.events.handlers import handlers
from tests.payments.conftest import Harness, customer, order_cancelled


def _cancelled(order_id: str, buyer: str) -> CloudEvent:
    return order_cancelled(order_id, buyer, "PENDING_PAYMENT")


async def _charge_started(harness: Harness) -> None:
    async def poll() -> None:
        while not harness.processor.charge_keys:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 10)


async def test_event_handled_while_the_charge_is_in_flight_refunds_without_the_orders_service(
    slow_harness: Harness,
) -> None:
    harness = slow_harness
    buyer = customer()
    order_id = harness.services.add_order(buyer, amount=900)
    handle = handlers(harness.app.state.payments)["order.cancelled"]
    event = _cancelled(order_id, buyer)

    async def cancel_while_charging() -> None:
        await _charge_started(harness)
        harness.services.orders_down = True  # the post-charge re-check cannot reach orders
        await handle(event)  # finds the payment PENDING: nothing to refund yet

    answer, _ = await asyncio.gather(harness.submit(buyer, order_id, "k"), cancel_while_charging())

    assert answer["data"]["submitPayment"]["status"] == "SUCCEEDED"
    assert harness.processor.refund_calls == 1
    rows = await harness.rows("SELECT captured, refunded FROM payments")
    assert [tuple(r) for r in rows] == [(900, 900)]
    for again in (event, _cancelled(order_id, buyer)):  # same event, then a re-emitted one
        await handle(again)
    assert harness.processor.refund_calls == 1
    assert await harness.count("payment_ledger") == 2


async def test_charge_committed_while_the_event_is_being_handled_is_refunded_by_the_consumer(
    slow_harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = slow_harness
    buyer = customer()
    order_id = harness.services.add_order(buyer, amount=700)
    service = harness.app.state.payments
    handle = handlers(service)["order.cancelled"]
    charged = asyncio.Event()
    held: list[str] = []
    record = service.cancellations.record

    async def record_once_the_charge_is_done(order: str, event_id: str, now: datetime) -> Any:
        # The event arrived while charging; its record commits only after the charge committed
        # SUCCEEDED and finished its own (local and remote) checks, finding nothing.
        held.append(order)
        await charged.wait()
        return await record(order, event_id, now)

    monkeypatch.setattr(service.cancellations, "record", record_once_the_charge_is_done)

    async def pay() -> Any:
        try:
            return await harness.submit(buyer, order_id, "k")
        finally:
            charged.set()

    async def cancel_while_charging() -> None:
        await _charge_started(harness)
        harness.services.orders_down = True
        await handle(_cancelled(order_id, buyer))

    answer, _ = await asyncio.gather(pay(), cancel_while_charging())

    assert held == [order_id]
    assert answer["data"]["submitPayment"]["status"] == "SUCCEEDED"
    assert harness.processor.refund_calls == 1
    rows = await harness.rows("SELECT captured, refunded FROM payments")
    assert [tuple(r) for r in rows] == [(700, 700)]
    await handle(_cancelled(order_id, buyer))  # a redelivery changes nothing
    assert harness.processor.refund_calls == 1


async def test_sweep_refunds_a_cancelled_order_whose_refund_failed_at_the_time(
    slow_harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = slow_harness
    buyer = customer()
    order_id = harness.services.add_order(buyer, amount=500)
    service = harness.app.state.payments
    handle = handlers(service)["order.cancelled"]
    refund = harness.processor.refund

    async def processor_down(**kwargs: Any) -> Any:
        raise ProcessorError("processor unreachable")

    async def cancel_while_charging() -> None:
        await _charge_started(harness)
        harness.services.orders_down = True
        monkeypatch.setattr(harness.processor, "refund", processor_down)
        await handle(_cancelled(order_id, buyer))

    await asyncio.gather(harness.submit(buyer, order_id, "k"), cancel_while_charging())
    rows = await harness.rows("SELECT refunded FROM payments")
    assert [r[0] for r in rows] == [0]  # the post-charge refund could not reach the processor

    monkeypatch.setattr(harness.processor, "refund", refund)
    assert await service.refund_cancelled_orders() == 1
    assert await service.refund_cancelled_orders() == 0  # nothing left: a second sweep is idle

    assert harness.processor.refund_calls == 1
    rows = await harness.rows("SELECT captured, refunded FROM payments")
    assert [tuple(r) for r in rows] == [(500, 500)]
