"""Refunds (service/refunds.py), on fakes of the ports: in parts, never above the capture,
reserved before the processor is asked, a refused one given back, a lost answer settled by a
retry with the same key."""

from __future__ import annotations

import asyncio

import pytest

from shopkit.errors import Conflict, InvalidInput, Unavailable
from subgraphs.payments.domain.model import PaymentStatus
from tests.payments.service.conftest import World


async def test_refunds_in_parts_never_above_the_capture(world: World) -> None:
    world.order()
    paid = await world.pay()

    first = await world.refund(paid.id, "r1", 300)
    rest = await world.refund(paid.id, "r2")
    with pytest.raises(Conflict):
        await world.refund(paid.id, "r3", 1)

    assert first.status is PaymentStatus.PARTIALLY_REFUNDED
    assert first.refundable == 700
    assert rest.status is PaymentStatus.REFUNDED
    assert rest.refunded == 1000
    assert world.ledger(paid.id) == [("charge", 1000), ("refund", 300), ("refund", 700)]
    assert world.processor_refunded(paid.charge_id) == 1000
    assert world.store.reservations == {}


async def test_racing_refunds_reserve_before_the_processor_is_asked(world: World) -> None:
    world.order()
    paid = await world.pay()
    world.processor.delay = 0.02

    outcomes = await asyncio.gather(
        *(world.refund(paid.id, f"r{i}", 400) for i in range(3)), return_exceptions=True
    )

    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1
    assert isinstance(refused[0], InvalidInput)
    assert refused[0].details["refundable"] == 200
    assert world.processor_refunded(paid.charge_id) == 800
    assert world.store.payments[paid.id].refunded == 800
    assert world.store.payments[paid.id].refunding == 0


async def test_a_refund_the_processor_refuses_gives_its_reservation_back(world: World) -> None:
    world.order()
    paid = await world.pay()
    world.processor.refuse_refunds = True

    with pytest.raises(Conflict, match="refused the refund"):
        await world.refund(paid.id, "r", 400)

    after = world.store.payments[paid.id]
    assert (after.refunded, after.refunding, after.refundable) == (0, 0, 1000)
    assert world.store.reservations == {}


async def test_a_lost_refund_answer_is_settled_by_a_retry_with_the_same_key(world: World) -> None:
    world.order()
    paid = await world.pay()
    world.processor.lose_refund_answers = 1

    with pytest.raises(Unavailable):
        await world.refund(paid.id, "r", 400)
    assert world.store.payments[paid.id].refundable == 600  # reserved while unknown
    retried = await world.refund(paid.id, "r", 400)

    assert retried.refunded == 400
    assert retried.refunding == 0
    assert world.processor.refund_calls == 1
    assert world.ledger(paid.id) == [("charge", 1000), ("refund", 400)]
