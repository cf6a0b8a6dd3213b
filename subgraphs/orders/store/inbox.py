"""The consumer inbox: ids of events already handled, so a redelivery has no second effect.

Payment events are also deduplicated inside the order's own batch (``applied_events``); the
inbox saves the work of loading the order for a plain redelivery.
"""

from __future__ import annotations

import acsylla

from subgraphs.orders.store.session import Statements

STATEMENTS = {
    "seen": "SELECT event_id FROM {ks}.processed_events WHERE consumer = ? AND event_id = ?",
    "record": "INSERT INTO {ks}.processed_events (consumer, event_id) VALUES (?, ?)",
}


class CqlInbox:
    def __init__(self, session: acsylla.Session, statements: Statements) -> None:
        self.session = session
        self.q = statements

    @classmethod
    async def open(cls, session: acsylla.Session, keyspace: str) -> CqlInbox:
        return cls(session, await Statements.prepare(session, keyspace, STATEMENTS))

    async def seen(self, consumer: str, event_id: str) -> bool:
        result = await self.session.execute(self.q("seen", [consumer, event_id]))
        return result.first() is not None

    async def record(self, consumer: str, event_id: str) -> None:
        await self.session.execute(self.q("record", [consumer, event_id]))
