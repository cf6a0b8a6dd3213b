"""The reconciliation (service/reconciliation.py), on fakes of the ports: charges and refunds
whose answer was lost are settled with the processor by their key, after the grace, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shopkit.errors import Unavailable
from subgraphs.payments.domain.idempotency import RetryableConflict
from subgraphs.payments.domain.model import CLAIM_SUCCEEDED, Payment, PaymentStatus, PendingRefund
from subgraphs.payments.service.inputs import CardInput
from subgraphs.payments.service.reconciliation import Reconciled
from tests.payments.fakes import SimulatedCrash
from tests.payments.service.conftest import DECLINED, GOOD, GRACE, World


async def _crashed_while_paying(world: World, card: CardInput = GOOD, key: str = "k") -> None:
    """Pays the order in a process that crashes after the processor's answer, before the
    payment's outcome commits."""
    world.order()
    world.store.crash_before_commit = True
    with pytest.raises(SimulatedCrash):
        await world.pay(key=key, card=card)


async def _paid_then_refund_lost(world: World) -> Payment:
    """Pays the order, then asks for a refund of 250 that the processor's scripted loss (set
    by the caller: the request or its answer) leaves with an unknown outcome."""
    world.order()
    paid = await world.pay()
    with pytest.raises(Unavailable):
        await world.refund(paid.id, "r", 250)
    return paid


async def _reconciled_before_and_after_the_grace(world: World) -> tuple[Reconciled, Reconciled]:
    """One reconciliation right after the loss, and one once the grace has run out."""
    early = await world.service.reconcile()
    world.clock.now += GRACE + timedelta(seconds=1)
    return early, await world.service.reconcile()


async def test_a_charge_made_just_before_a_crash_is_recorded_by_the_reconciliation(
    world: World,
) -> None:
    await _crashed_while_paying(world, key="a")
    [pending] = world.store.payments.values()
    with pytest.raises(RetryableConflict, match="in progress"):
        await world.pay(key="b")

    done = await world.service.reconcile()

    assert (done.charges, done.left_open) == (1, 0)
    recorded = world.store.payments[pending.id]
    assert recorded.status is PaymentStatus.SUCCEEDED
    assert recorded.captured == 1000
    assert world.store.claims["o1"].state == CLAIM_SUCCEEDED
    assert world.store.event_types() == ["payment.succeeded"]
    assert (await world.pay(key="a")).id == pending.id  # the key's answer is the payment
    assert world.processor.charge_calls == 1


async def test_a_charge_never_received_fails_only_after_the_grace_then_a_new_key_pays(
    world: World,
) -> None:
    world.order()
    world.processor.lose_charges = 1
    with pytest.raises(Unavailable):
        await world.pay(key="a")

    early, late = await _reconciled_before_and_after_the_grace(world)
    paid = await world.pay(key="b")

    assert (early.charges, early.left_open) == (0, 1)
    assert late.charges == 1
    [failed] = [p for p in world.store.payments.values() if p.id != paid.id]
    assert failed.status is PaymentStatus.FAILED
    assert failed.failure_code == "processing_error"
    assert paid.status is PaymentStatus.SUCCEEDED
    assert world.store.event_types() == ["payment.failed", "payment.succeeded"]


async def test_a_declined_charge_found_by_the_reconciliation_frees_the_order(
    world: World,
) -> None:
    await _crashed_while_paying(world, card=DECLINED)

    await world.service.reconcile()

    [payment] = world.store.payments.values()
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_code == "card_declined"
    assert "o1" not in world.store.claims


async def test_a_refund_whose_answer_was_lost_is_recorded_by_the_reconciliation(
    world: World,
) -> None:
    world.processor.lose_refund_answers = 1
    paid = await _paid_then_refund_lost(world)

    done = await world.service.reconcile()

    assert done.refunds == 1
    after = world.store.payments[paid.id]
    assert (after.refunded, after.refunding) == (250, 0)
    assert world.processor.refund_calls == 1
    assert (await world.refund(paid.id, "r", 250)).refunded == 250  # replayed, not made again


async def test_a_retry_racing_the_reconciliation_of_its_refund_does_not_refund_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.processor.lose_refund_answers = 1
    paid = await _paid_then_refund_lost(world)
    looked_up = world.store.pending_refund_of_request

    async def settled_right_after_the_lookup(request_id: str) -> PendingRefund | None:
        assert await looked_up(request_id) is not None  # still pending when it looked...
        await world.service.reconcile()  # ...and recorded by the reconciliation right after
        return None  # as a lookup a moment later would have found

    monkeypatch.setattr(world.store, "pending_refund_of_request", settled_right_after_the_lookup)
    world.clock.now += timedelta(minutes=2)  # the lost request's key lease has run out

    retried = await world.refund(paid.id, "r", 250)

    assert retried.refunded == 250
    assert world.processor_refunded(paid.charge_id) == 250
    assert world.processor.refund_calls == 1


async def test_a_reserved_refund_the_processor_never_received_is_sent_after_the_grace(
    world: World,
) -> None:
    world.processor.lose_refunds = 1
    paid = await _paid_then_refund_lost(world)

    early, late = await _reconciled_before_and_after_the_grace(world)

    assert (early.refunds, early.left_open) == (0, 1)
    assert late.refunds == 1
    assert world.processor_refunded(paid.charge_id) == 250
    assert world.store.payments[paid.id].refunded == 250


async def test_nothing_is_settled_while_the_processor_cannot_be_asked(world: World) -> None:
    world.order()
    world.processor.lose_charge_answers = 1
    with pytest.raises(Unavailable):
        await world.pay()
    world.processor.unreachable = True
    world.clock.now += GRACE * 10

    done = await world.service.reconcile()

    assert (done.charges, done.left_open) == (0, 1)
    [payment] = world.store.payments.values()
    assert payment.status is PaymentStatus.PENDING
