"""The consumer inbox: ids of events already handled, so a redelivery has no second effect.

Payment events are also deduplicated inside the order's own batch (``applied_events``); the
inbox saves the work of loading the order for a plain redelivery.
"""

from __future__ import annotations

import acsylla


class CqlInbox:
    def __init__(self, session: acsylla.Session, keyspace: str) -> None:
        self.session = session
        self.keyspace = keyspace
        self._seen: acsylla.PreparedStatement | None = None
        self._record: acsylla.PreparedStatement | None = None

    async def prepare(self) -> CqlInbox:
        ks = self.keyspace
        self._seen = await self.session.create_prepared(
            f"SELECT event_id FROM {ks}.processed_events WHERE consumer = ? AND event_id = ?"
        )
        self._record = await self.session.create_prepared(
            f"INSERT INTO {ks}.processed_events (consumer, event_id) VALUES (?, ?)"
        )
        return self

    async def seen(self, consumer: str, event_id: str) -> bool:
        assert self._seen is not None
        result = await self.session.execute(self._seen.bind([consumer, event_id]))
        return result.first() is not None

    async def record(self, consumer: str, event_id: str) -> None:
        assert self._record is not None
        await self.session.execute(self._record.bind([consumer, event_id]))
