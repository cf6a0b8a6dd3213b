"""What the stores on Cassandra (acsylla) share: named statements prepared once per session,
hour buckets (hours since the epoch) for tables that index rows by time, and the time inside a
time-based UUID. Used by orders' store and the kit's CQL outbox (``shopkit.events.store.cql``).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import acsylla

_UUID_EPOCH = 0x01B21DD213814000  # 1582-10-15 to 1970-01-01 in 100 ns


def hour_bucket(at: datetime) -> int:
    return int(at.timestamp() // 3600)


def timeuuid_time(value: str) -> datetime:
    return datetime.fromtimestamp((uuid.UUID(value).time - _UUID_EPOCH) / 1e7, UTC)


class Statements:
    """Named CQL statements, prepared once per session. Templates name the keyspace ``{ks}``
    and may name other parts given as keyword arguments to ``prepare``."""

    def __init__(self, prepared: dict[str, acsylla.PreparedStatement]) -> None:
        self._prepared = prepared

    @classmethod
    async def prepare(
        cls, session: acsylla.Session, keyspace: str, templates: dict[str, str], **parts: str
    ) -> Statements:
        names = list(templates)
        prepared = await asyncio.gather(
            *(session.create_prepared(templates[n].format(ks=keyspace, **parts)) for n in names)
        )
        return cls(dict(zip(names, prepared, strict=True)))

    def __call__(self, name: str, values: list[Any], **options: Any) -> acsylla.Statement:
        return self._prepared[name].bind(values, **options)
