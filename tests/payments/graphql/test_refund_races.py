"""Concurrent refunds on every engine payments ships with (the embedded SQLite default and
MariaDB for MySQL): the processor, the ledger and the payment row agree after the race, the
loser is told why, and the processor is never called while the payment row is locked."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.payments.conftest import CountingProcessor, Harness, running_on
from tests.support.answers import error_code

ADMIN = "admin-1"


@pytest.fixture(params=["sqlite", "mariadb"])
async def race(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """Payments on either engine, with a processor that takes 0.3 s to answer."""
    async with running_on(request.param, request, tmp_path, CountingProcessor(0.3)) as harness:
        yield harness


async def _paid(harness: Harness, amount: int) -> str:
    buyer, order_id = harness.new_order(amount)
    answer = await harness.submit(buyer, order_id, "pay")
    return str(answer["data"]["submitPayment"]["id"])


async def _books(harness: Harness, payment_id: str) -> dict[str, Any]:
    """The refunds as the processor, the ledger and the payment row each tell them."""
    [(charge_id, refunded, refunding)] = await harness.rows(
        f"SELECT charge_id, refunded, refunding FROM payments WHERE id = '{payment_id}'"
    )
    ledger = await harness.rows(
        "SELECT amount, processor_ref FROM payment_ledger "
        f"WHERE payment_id = '{payment_id}' AND kind = 'refund'"
    )
    processor = harness.processor
    made = {r.refund_id: r.amount for r in processor.refunds.values()}
    return {
        "processor": processor.refunded.get(charge_id, 0),
        "ledger": sum(amount for amount, _ in ledger),
        "row": refunded,
        "refunding": refunding,
        "ledger_matches_processor": {ref: amount for amount, ref in ledger} == made,
    }


def _agreeing(refunded: int) -> dict[str, Any]:
    """The books of ``_books`` when all three tell ``refunded`` and no refund is in flight."""
    return {
        "processor": refunded,
        "ledger": refunded,
        "row": refunded,
        "refunding": 0,
        "ledger_matches_processor": True,
    }


async def test_two_refunds_of_400_on_a_capture_of_1000_are_both_made_once(race: Harness) -> None:
    payment_id = await _paid(race, 1000)

    answers = await asyncio.gather(
        *(race.refund(ADMIN, payment_id, f"r{i}", 400) for i in range(2))
    )

    assert all(a.get("data") for a in answers), answers
    assert await _books(race, payment_id) == _agreeing(800)
    assert race.processor.refund_calls == 2


async def test_three_refunds_of_400_on_a_capture_of_1000_refuse_the_third_clearly(
    race: Harness,
) -> None:
    payment_id = await _paid(race, 1000)

    answers = await asyncio.gather(
        *(race.refund(ADMIN, payment_id, f"r{i}", 400) for i in range(3))
    )

    made = [a for a in answers if a.get("data")]
    refused = [a for a in answers if not a.get("data")]
    assert len(made) == 2, answers
    assert len(refused) == 1, answers
    assert error_code(refused[0]) == "BAD_USER_INPUT"
    assert "exceeds what remains refundable" in refused[0]["errors"][0]["message"]
    assert refused[0]["errors"][0]["extensions"]["refundable"] == 200
    assert await _books(race, payment_id) == _agreeing(800)
    final = await race.gql(
        "query($id: ID!) { payment(id: $id) { status refundable { amount } } }",
        {"id": payment_id},
        as_=ADMIN,
        role="ADMIN",
    )
    assert final["data"]["payment"] == {
        "status": "PARTIALLY_REFUNDED",
        "refundable": {"amount": 200},
    }


async def _row_writable_now(harness: Harness, payment_id: str) -> bool:
    """Whether another connection can lock the payment row for writing within a second."""
    url = harness.app.state.engine.url
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, timeout=1.0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            connection.close()
    engine = create_async_engine(url.render_as_string(hide_password=False))
    try:
        async with engine.connect() as session:
            await session.execute(sa.text("SET SESSION innodb_lock_wait_timeout = 1"))
            try:
                await session.execute(
                    sa.text("SELECT id FROM payments WHERE id = :id FOR UPDATE"), {"id": payment_id}
                )
                return True
            except sa.exc.OperationalError:
                return False
            finally:
                await session.rollback()
    finally:
        await engine.dispose()


async def test_the_processor_is_asked_for_a_refund_with_no_database_lock_held(
    race: Harness,
) -> None:
    payment_id = await _paid(race, 1000)
    seen: list[bool] = []
    refund = race.processor.refund

    async def refund_and_look(**kwargs: Any) -> Any:
        seen.append(await _row_writable_now(race, payment_id))
        return await refund(**kwargs)

    # The harness's own processor, wrapped for this race (mypy refuses assigning a method).
    race.processor.refund = refund_and_look  # type: ignore[method-assign]

    answer = await race.refund(ADMIN, payment_id, "r", 300)

    assert answer["data"]["refundPayment"]["status"] == "PARTIALLY_REFUNDED"
    assert seen == [True]
