"""Idempotency keys: repeats replay the first answer, concurrent repeats charge once, an
unknown outcome is settled by retrying with the same key, and old keys expire."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tests.payments.conftest import DECLINED_CARD, Harness, customer
from tests.support.answers import error_code


async def test_repeat_with_the_same_key_replays_the_answer_without_charging_again(
    harness: Harness,
) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)

    first = await harness.submit(buyer, order_id, "once")
    second = await harness.submit(buyer, order_id, "once")

    assert first == second
    assert harness.processor.charge_calls == 1
    assert await harness.count("payments") == 1


async def test_a_stored_error_is_replayed_for_the_same_key(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer, status="CANCELLED")
    first = await harness.submit(buyer, order_id, "k")
    harness.services.set_status(order_id, "PENDING_PAYMENT")

    second = await harness.submit(buyer, order_id, "k")

    assert error_code(first) == "CONFLICT"
    assert second["errors"][0]["message"] == first["errors"][0]["message"]
    assert error_code(second) == "CONFLICT"
    assert harness.processor.charge_calls == 0


async def test_a_decline_is_replayed_not_retried(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)

    first = await harness.submit(buyer, order_id, "k", card=DECLINED_CARD)
    second = await harness.submit(buyer, order_id, "k", card=DECLINED_CARD)

    assert first == second
    assert first["data"]["submitPayment"]["status"] == "FAILED"
    assert harness.processor.charge_calls == 1


async def test_keys_are_scoped_to_the_caller(harness: Harness) -> None:
    alice, bob = customer(), customer()
    alices = harness.services.add_order(alice)
    bobs = harness.services.add_order(bob)

    a = await harness.submit(alice, alices, "shared-key")
    b = await harness.submit(bob, bobs, "shared-key")

    assert a["data"]["submitPayment"]["status"] == "SUCCEEDED"
    assert b["data"]["submitPayment"]["status"] == "SUCCEEDED"
    assert harness.processor.charge_calls == 2


async def test_unknown_processor_outcome_leaves_the_payment_pending_until_a_retry(
    harness: Harness,
) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)
    harness.processor.lose_answers = 1

    lost = await harness.submit(buyer, order_id, "k")
    pending = await harness.rows("SELECT outcome FROM payments")
    retried = await harness.submit(buyer, order_id, "k")

    assert error_code(lost) == "SERVICE_UNAVAILABLE"
    assert [tuple(r) for r in pending] == [("pending",)]
    assert retried["data"]["submitPayment"]["status"] == "SUCCEEDED"
    # the retry asked the processor again with the same processor key; it charged once
    assert len(harness.processor.charge_keys) == 2
    assert len(set(harness.processor.charge_keys)) == 1
    assert harness.processor.charge_calls == 1
    assert await harness.count("payments") == 1
    assert await harness.count("payment_ledger") == 1


async def test_an_order_with_an_unsettled_charge_refuses_other_keys(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)
    harness.processor.lose_answers = 1
    await harness.submit(buyer, order_id, "k")

    other = await harness.submit(buyer, order_id, "other-key")

    assert error_code(other) == "CONFLICT"
    assert harness.processor.charge_calls == 1


async def test_fifty_concurrent_requests_with_one_key_charge_once(slow_harness: Harness) -> None:
    harness = slow_harness
    buyer = customer()
    order_id = harness.services.add_order(buyer)

    answers = await asyncio.gather(*(harness.submit(buyer, order_id, "k") for _ in range(50)))

    successes = [a for a in answers if a.get("data")]
    conflicts = [a for a in answers if not a.get("data")]
    assert successes, "one request must have done the work"
    assert all(a == successes[0] for a in successes)
    assert all(error_code(a) == "CONFLICT" for a in conflicts)
    assert all("in progress" in a["errors"][0]["message"] for a in conflicts)
    # The one rule's answer to a key in progress, as orders gives it (tests/orders).
    assert all(
        a["errors"][0]["extensions"]["reason"] == "IDEMPOTENCY_IN_PROGRESS" for a in conflicts
    )
    retries = await asyncio.gather(*(harness.submit(buyer, order_id, "k") for _ in conflicts))
    assert all(r == successes[0] for r in retries)
    assert harness.processor.charge_calls == 1
    assert await harness.count("payments") == 1
    assert await harness.count("payment_ledger") == 1


async def test_twenty_concurrent_requests_with_different_keys_pay_the_order_once(
    slow_harness: Harness,
) -> None:
    harness = slow_harness
    buyer = customer()
    order_id = harness.services.add_order(buyer)

    answers = await asyncio.gather(
        *(harness.submit(buyer, order_id, f"key-{i}") for i in range(20))
    )

    succeeded = [a for a in answers if a.get("data")]
    assert len(succeeded) == 1
    assert succeeded[0]["data"]["submitPayment"]["status"] == "SUCCEEDED"
    assert all(error_code(a) == "CONFLICT" for a in answers if not a.get("data"))
    assert harness.processor.charge_calls == 1
    rows = await harness.rows("SELECT outcome FROM payments")
    assert [r[0] for r in rows] == ["succeeded"]


async def test_expired_keys_are_cleaned_up_and_fresh_ones_kept(harness: Harness) -> None:
    buyer = customer()
    for i in range(2):
        await harness.submit(buyer, harness.services.add_order(buyer), f"k{i}")
    async with harness.app.state.engine.begin() as conn:
        await conn.execute(
            sa.text("UPDATE idempotency_keys SET expires_at = :t WHERE idem_key = 'k0'"),
            {"t": datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)},
        )
    keys = harness.app.state.payments.keys

    removed = await keys.store.cleanup(datetime.now(UTC))

    assert removed == 1
    remaining = await harness.rows("SELECT idem_key, expires_at FROM idempotency_keys")
    assert [r[0] for r in remaining] == ["k1"]
    assert remaining[0][1] >= datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=23)


async def test_an_expired_key_may_be_used_again(harness: Harness) -> None:
    buyer = customer()
    first_order = harness.services.add_order(buyer)
    await harness.submit(buyer, first_order, "k")
    async with harness.app.state.engine.begin() as conn:
        await conn.execute(
            sa.text("UPDATE idempotency_keys SET expires_at = :t"),
            {"t": datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)},
        )
    second_order = harness.services.add_order(buyer)

    answer: dict[str, Any] = await harness.submit(buyer, second_order, "k")

    assert answer["data"]["submitPayment"]["order"] == {"id": second_order}
    assert harness.processor.charge_calls == 2
