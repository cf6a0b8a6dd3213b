"""Time buckets (hours since the epoch) of the outbox hints and the expiry index, and the time
inside a time-based UUID."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

_UUID_EPOCH = 0x01B21DD213814000  # 1582-10-15 to 1970-01-01 in 100 ns


def hour_bucket(at: datetime) -> int:
    return int(at.timestamp() // 3600)


def timeuuid_time(value: str) -> datetime:
    return datetime.fromtimestamp((uuid.UUID(value).time - _UUID_EPOCH) / 1e7, UTC)
