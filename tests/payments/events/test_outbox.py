"""The outbox: each money movement writes its event in the same transaction, and every event
matches its JSON Schema."""

from __future__ import annotations

import json

import pytest

from shopkit.events.schemas import producer_schemas
from subgraphs.payments.store.payments import SqlPaymentTx
from tests.payments.conftest import DECLINED_CARD, Harness, customer

SCHEMAS = producer_schemas("payments")


async def _events(harness: Harness) -> list[tuple[str, str, dict]]:
    rows = await harness.rows("SELECT type, aggregate_id, payload FROM outbox ORDER BY seq")
    return [(r[0], r[1], json.loads(r[2])) for r in rows]


async def test_charge_writes_payment_succeeded_keyed_by_order(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer, amount=1234)

    payment = (await harness.submit(buyer, order_id, "k"))["data"]["submitPayment"]

    [(event_type, key, event)] = await _events(harness)
    assert (event_type, key) == ("payment.succeeded", order_id)
    assert (event["type"], event["subject"]) == ("payment.succeeded", order_id)
    assert event["data"] == {
        "paymentId": payment["id"],
        "orderId": order_id,
        "customerId": buyer,
        "amount": {"amount": 1234, "currency": "EUR"},
        "status": "SUCCEEDED",
    }
    SCHEMAS.validate(event)


async def test_decline_and_refunds_write_their_events(harness: Harness) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer, amount=1000)
    await harness.submit(buyer, order_id, "a", card=DECLINED_CARD)
    payment = (await harness.submit(buyer, order_id, "b"))["data"]["submitPayment"]
    await harness.refund("admin", payment["id"], "r1", 400)
    await harness.refund("admin", payment["id"], "r2")

    events = await _events(harness)

    assert [e[0] for e in events] == [
        "payment.failed",
        "payment.succeeded",
        "payment.refunded",
        "payment.refunded",
    ]
    for _, key, event in events:
        assert key == order_id
        SCHEMAS.validate(event)
    assert events[0][2]["data"]["failureCode"] == "card_declined"
    partial, full = events[2][2]["data"], events[3][2]["data"]
    assert (partial["status"], partial["refundedAmount"]["amount"]) == ("PARTIALLY_REFUNDED", 400)
    assert (full["status"], full["refundedAmount"]["amount"]) == ("REFUNDED", 600)
    assert full["totalRefunded"]["amount"] == 1000


async def test_failure_between_writes_leaves_neither_payment_change_nor_event(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    buyer = customer()
    order_id = harness.services.add_order(buyer)

    async def broken(self: SqlPaymentTx, event: object) -> None:
        raise RuntimeError("injected: the process dies between the writes")

    with monkeypatch.context() as patch:
        patch.setattr(SqlPaymentTx, "publish", broken)
        failed = await harness.submit(buyer, order_id, "k")

    assert failed["errors"][0]["message"] == "Unexpected error."
    assert await harness.count("outbox") == 0
    assert await harness.count("payment_ledger") == 0
    assert [r[0] for r in await harness.rows("SELECT outcome FROM payments")] == ["pending"]
    assert [r[0] for r in await harness.rows("SELECT status FROM idempotency_keys")] == ["started"]

    retried = await harness.submit(buyer, order_id, "k")

    assert retried["data"]["submitPayment"]["status"] == "SUCCEEDED"
    assert harness.processor.charge_calls == 1  # the retry re-asked with the same processor key
    assert [e[0] for e in await _events(harness)] == ["payment.succeeded"]


def test_every_produced_event_type_has_a_schema() -> None:
    from subgraphs.payments.domain.events import PRODUCES

    assert SCHEMAS.types == sorted(PRODUCES)


def test_schema_rejects_an_event_missing_the_order_id() -> None:
    import jsonschema

    from shopkit.events import new_event

    event = new_event(
        "payment.succeeded",
        source="payments",
        subject="o",
        data={"paymentId": "p", "customerId": "c", "amount": {"amount": 1, "currency": "EUR"},
              "status": "SUCCEEDED"},
    )  # fmt: skip

    with pytest.raises(jsonschema.ValidationError):
        SCHEMAS.validate(event)
