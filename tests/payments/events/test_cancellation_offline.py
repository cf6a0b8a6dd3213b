"""A charge that succeeds on an order cancelled meanwhile is refunded exactly once even when the
orders service cannot be reached: the ``order.cancelled`` consumer's record in the payments
database is enough, whichever of the event and the charge's commit comes second."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from shopkit.events import CloudEvent
from shopkit.processor import ProcessorError
from tests.payments.conftest import Harness, order_cancelled


def _cancelled(order_id: str, buyer: str) -> CloudEvent:
    return order_cancelled(order_id, buyer, "PENDING_PAYMENT")


async def _charge_started(harness: Harness) -> None:
    async def poll() -> None:
        while not harness.processor.charge_keys:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 10)


async def _cancel_while_charging(
    harness: Harness, event: CloudEvent, and_then: Callable[[], object] = lambda: None
) -> None:
    """Delivers ``event`` once the charge has reached the processor, the orders service down
    from then on (so the charge's own re-check after it cannot reach it); ``and_then``: one
    more fault, injected at that same moment."""
    await _charge_started(harness)
    harness.services.orders_down = True
    and_then()
    await harness.handler("order.cancelled")(event)


async def test_event_handled_while_the_charge_is_in_flight_refunds_without_the_orders_service(
    slow_harness: Harness,
) -> None:
    harness = slow_harness
    buyer, order_id = harness.new_order(900)
    handle = harness.handler("order.cancelled")
    event = _cancelled(order_id, buyer)

    answer, _ = await asyncio.gather(  # the event finds the payment PENDING: no refund yet
        harness.submit(buyer, order_id, "k"), _cancel_while_charging(harness, event)
    )

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
    buyer, order_id = harness.new_order(700)
    service = harness.app.state.payments
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

    answer, _ = await asyncio.gather(
        pay(), _cancel_while_charging(harness, _cancelled(order_id, buyer))
    )

    assert held == [order_id]
    assert answer["data"]["submitPayment"]["status"] == "SUCCEEDED"
    assert harness.processor.refund_calls == 1
    rows = await harness.rows("SELECT captured, refunded FROM payments")
    assert [tuple(r) for r in rows] == [(700, 700)]
    await harness.handler("order.cancelled")(_cancelled(order_id, buyer))  # changes nothing
    assert harness.processor.refund_calls == 1


async def test_sweep_refunds_a_cancelled_order_whose_refund_failed_at_the_time(
    slow_harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = slow_harness
    buyer, order_id = harness.new_order(500)
    service = harness.app.state.payments
    refund = harness.processor.refund

    async def processor_down(**kwargs: Any) -> Any:
        raise ProcessorError("processor unreachable")

    await asyncio.gather(
        harness.submit(buyer, order_id, "k"),
        _cancel_while_charging(
            harness,
            _cancelled(order_id, buyer),
            and_then=lambda: monkeypatch.setattr(harness.processor, "refund", processor_down),
        ),
    )
    rows = await harness.rows("SELECT refunded FROM payments")
    assert [r[0] for r in rows] == [0]  # the post-charge refund could not reach the processor

    monkeypatch.setattr(harness.processor, "refund", refund)
    assert await service.refund_cancelled_orders() == 1
    assert await service.refund_cancelled_orders() == 0  # nothing left: a second sweep is idle

    assert harness.processor.refund_calls == 1
    rows = await harness.rows("SELECT captured, refunded FROM payments")
    assert [tuple(r) for r in rows] == [(500, 500)]
