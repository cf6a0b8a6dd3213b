"""The reconciliation on the real SQL store (MariaDB, and SQLite for the embedded default):
charges and refunds whose answer was lost are settled against the processor by their key, the
order's claim follows, and the key's stored answer becomes the settled payment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from shopkit.processor import ProcessorError
from tests.payments.conftest import Harness, running_on
from tests.support.answers import error_code


@pytest.fixture(params=["mariadb", "sqlite"])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """This module's tests run on either engine (the conftest's ``harness`` is MariaDB's)."""
    async with running_on(request.param, request, tmp_path) as harness:
        yield harness


async def _age(harness: Harness, table: str, by: timedelta) -> None:
    async with harness.app.state.engine.begin() as conn:
        await conn.execute(
            sa.text(f"UPDATE {table} SET created_at = :t"),
            {"t": datetime.now(UTC).replace(tzinfo=None) - by},
        )


async def test_a_charge_whose_answer_was_lost_is_recorded_and_its_key_answers_it(
    harness: Harness,
) -> None:
    buyer, order_id = harness.new_order(1500)
    harness.processor.lose_answers = 1
    lost = await harness.submit(buyer, order_id, "k")
    blocked = await harness.submit(buyer, order_id, "other")

    done = await harness.app.state.payments.reconcile()
    replay = await harness.submit(buyer, order_id, "k")

    assert error_code(lost) == "SERVICE_UNAVAILABLE"
    assert error_code(blocked) == "CONFLICT"
    assert done.charges == 1
    assert replay["data"]["submitPayment"]["status"] == "SUCCEEDED"
    assert harness.processor.charge_calls == 1
    assert len(harness.processor.charge_keys) == 1  # the replay did not ask the processor
    rows = await harness.rows("SELECT outcome, captured FROM payments")
    assert [tuple(r) for r in rows] == [("succeeded", 1500)]
    claims = await harness.rows("SELECT state FROM order_charge_claims")
    assert [r[0] for r in claims] == ["succeeded"]
    outbox = await harness.rows("SELECT type FROM outbox")
    assert [r[0] for r in outbox] == ["payment.succeeded"]


async def test_a_charge_never_received_fails_after_the_grace_and_frees_the_order(
    harness: Harness,
) -> None:
    buyer, order_id = harness.new_order(900)
    harness.processor.lose_requests = 1
    await harness.submit(buyer, order_id, "k")

    early = await harness.app.state.payments.reconcile()
    await _age(harness, "payments", timedelta(hours=1))
    late = await harness.app.state.payments.reconcile()
    paid = await harness.submit(buyer, order_id, "new-key")
    replay = await harness.submit(buyer, order_id, "k")

    assert (early.charges, early.left_open) == (0, 1)
    assert late.charges == 1
    assert paid["data"]["submitPayment"]["status"] == "SUCCEEDED"
    failed = replay["data"]["submitPayment"]
    assert (failed["status"], failed["failureCode"]) == ("FAILED", "processing_error")
    outbox = await harness.rows("SELECT type FROM outbox ORDER BY seq")
    assert [r[0] for r in outbox] == ["payment.failed", "payment.succeeded"]


async def test_a_refund_whose_answer_was_lost_is_recorded_once(harness: Harness) -> None:
    buyer, order_id = harness.new_order(1000)
    payment_id = (await harness.submit(buyer, order_id, "k"))["data"]["submitPayment"]["id"]
    refund = harness.processor.refund

    async def answer_lost(**kwargs: object) -> object:
        await refund(**kwargs)
        raise ProcessorError("the answer was lost")

    # Replaced for one call and put back below: the processor is the harness's own.
    harness.processor.refund = answer_lost  # type: ignore[method-assign]
    lost = await harness.refund("admin", payment_id, "r", 300)
    harness.processor.refund = refund  # type: ignore[method-assign]  # put back
    reserved = await harness.rows("SELECT refunded, refunding FROM payments")

    done = await harness.app.state.payments.reconcile()
    replay = await harness.refund("admin", payment_id, "r", 300)

    assert error_code(lost) == "SERVICE_UNAVAILABLE"
    assert [tuple(r) for r in reserved] == [(0, 300)]
    assert done.refunds == 1
    assert replay["data"]["refundPayment"]["refunded"] == {"amount": 300}
    assert harness.processor.refund_calls == 1
    rows = await harness.rows("SELECT refunded, refunding FROM payments")
    assert [tuple(r) for r in rows] == [(300, 0)]
    assert await harness.count("refund_reservations") == 0
    ledger = await harness.rows("SELECT kind, amount FROM payment_ledger ORDER BY sequence")
    assert [tuple(r) for r in ledger] == [("charge", 1000), ("refund", 300)]
