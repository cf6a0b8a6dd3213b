"""Through the real broker: the relay publishes payment events, and the order.cancelled
consumer refunds a paid order exactly once however often the event is delivered."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shopkit.events import new_event
from shopkit.events.schemas import producer_schemas
from tests.payments.conftest import customer, payments_settings, running
from tests.support.kafka import read_events


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.2)


async def _committed(bootstrap: str, group: str, partition: TopicPartition) -> int:
    """The offset the consumer group has committed on ``partition`` (read without joining
    the group: offsets fetched from the coordinator)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        return await consumer.committed(partition) or 0
    finally:
        await consumer.stop()


async def test_relay_publishes_and_cancellation_delivered_five_times_refunds_once(
    mysql_url: str, tmp_path: Path, kafka_bootstrap: str
) -> None:
    settings = payments_settings(
        mysql_url,
        tmp_path,
        events_enabled=True,
        kafka_bootstrap=kafka_bootstrap,
        outbox_poll_seconds=0.2,
        consumer_group=f"payments-{uuid.uuid4().hex[:8]}",  # the broker is shared by all suites
    )
    async with running(settings) as harness:
        buyer = customer()
        order_id = harness.services.add_order(buyer, amount=2000)
        payment = (await harness.submit(buyer, order_id, "k"))["data"]["submitPayment"]

        [published] = await read_events(kafka_bootstrap, "shop.payment", order_id, 1)
        producer_schemas("payments").validate(published)
        assert published["type"] == "payment.succeeded"
        assert published["data"]["paymentId"] == payment["id"]

        cancelled = new_event(
            "order.cancelled",
            source="orders",
            subject=order_id,
            data={  # as orders publishes it: the consumer checks it against orders' schema
                "orderId": order_id,
                "customerId": buyer,
                "status": "CANCELLED",
                "previousStatus": "PAID",
                "lines": [
                    {
                        "itemId": "i-1",
                        "quantity": 1,
                        "unitPrice": {"amount": 2000, "currency": "EUR"},
                    }
                ],
                "total": {"amount": 2000, "currency": "EUR"},
                "reason": "cancelled by the customer",
            },
        )
        another = new_event("order.cancelled", source="orders", subject=order_id,
                            data=cancelled.data)  # fmt: skip
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        try:
            for event in (cancelled, cancelled, another, cancelled, another):
                sent = await producer.send_and_wait(
                    "shop.order", event.to_json().encode(), key=order_id.encode()
                )
        finally:
            await producer.stop()
        ours = TopicPartition("shop.order", sent.partition)  # one key, one partition

        async def all_handled() -> bool:
            group = settings.consumer_group or "payments"
            return await _committed(kafka_bootstrap, group, ours) == sent.offset + 1

        await _eventually(all_handled)
        refunded = await read_events(kafka_bootstrap, "shop.payment", order_id, 2)

        assert harness.processor.refund_calls == 1
        ours_handled = await harness.rows(
            f"SELECT event_id FROM inbox WHERE event_id IN ('{cancelled.id}', '{another.id}')"
        )
        assert len(ours_handled) == 2  # two distinct event ids, five deliveries
        rows = await harness.rows("SELECT kind, amount FROM payment_ledger ORDER BY sequence")
        assert [tuple(r) for r in rows] == [("charge", 2000), ("refund", 2000)]
        assert [e["type"] for e in refunded] == ["payment.succeeded", "payment.refunded"]
        assert refunded[1]["data"]["status"] == "REFUNDED"
