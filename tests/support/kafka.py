"""Reading what a service published, as a consumer outside the shop would: from the start of
the topic, the records of one key (the aggregate's id, the outbox's Kafka key)."""

from __future__ import annotations

import json
import time
from typing import Any

from aiokafka import AIOKafkaConsumer


async def read_events(
    bootstrap: str, topic: str, key: str, count: int, timeout: float = 45.0
) -> list[dict[str, Any]]:
    """The events (decoded JSON) on ``topic`` under ``key``, oldest first: once ``count`` are
    there, or when ``timeout`` has passed, those found (the caller's assertion then shows what
    is missing). No consumer group: nothing is committed, every call reads from the start."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                found += [json.loads(r.value) for r in records if r.key == key.encode()]
    finally:
        await consumer.stop()
    return found
