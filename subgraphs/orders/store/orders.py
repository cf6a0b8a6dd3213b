"""The order store on Cassandra: one partition per order (see ``schema.cql``).

Every change of an order is one conditional batch on its partition: the static columns
(``IF version = ?``, or ``IF NOT EXISTS`` at creation), the history row and the outbox event
row (``published = false``), so the event is written if and only if the change is. Before the
batch, a plain ``outbox_hints`` row names the event so the relay finds it without a scan.
The event row and its hint are the kit's CQL outbox (``shopkit.events.store.cql``), on this
table and keyed by ``order_id``. A batch that times out is resolved by reading the event row
at SERIAL consistency, which completes any Paxos round in flight, before answering whether it
applied.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Any

import acsylla

from shopkit.addresses import Address
from shopkit.cql import Statements, hour_bucket
from shopkit.events import CloudEvent
from shopkit.events.store.cql import CqlOutbox
from subgraphs.orders.domain.model import (
    HistoryEntry,
    KeyHolder,
    Money,
    Order,
    OrderKey,
    OrderLine,
    OrderStatus,
)

log = logging.getLogger(__name__)

TIMEOUTS = (
    acsylla.errors.CassErrorServerWriteTimeout,
    acsylla.errors.CassErrorLibRequestTimedOut,
)
EXPIRY_LOOKBACK_HOURS = 24 * 7

STATEMENTS = {
    "create": (
        "INSERT INTO {ks}.orders (order_id, status, version, customer_id, total_amount, "
        "currency, shipping_address, created_at, updated_at, applied_events) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS"
    ),
    "move": (
        "UPDATE {ks}.orders SET status = ?, version = ?, updated_at = ?, total_amount = ?, "
        "currency = ? WHERE order_id = ? IF version = ?"
    ),
    "move_once": (
        "UPDATE {ks}.orders SET status = ?, version = ?, updated_at = ?, total_amount = ?, "
        "currency = ?, applied_events = applied_events + ? WHERE order_id = ? IF version = ?"
    ),
    "line": (
        "INSERT INTO {ks}.orders (order_id, row_kind, row_id, item_id, item_name, item_upc, "
        "quantity, unit_amount) VALUES (?, 'line', ?, ?, ?, ?, ?, ?)"
    ),
    "drop_line": "DELETE FROM {ks}.orders WHERE order_id = ? AND row_kind = 'line' AND row_id = ?",
    "history": (
        "INSERT INTO {ks}.orders (order_id, row_kind, row_id, to_status, at, reason) "
        "VALUES (?, 'history', ?, ?, ?, ?)"
    ),
    "line_ids": "SELECT row_id FROM {ks}.orders WHERE order_id = ? AND row_kind = 'line'",
    "get": "SELECT * FROM {ks}.orders WHERE order_id = ?",
    "by_customer": (
        "INSERT INTO {ks}.orders_by_customer (customer_id, created_at, order_id, status) "
        "VALUES (?, ?, ?, ?)"
    ),
    "customer_orders": (
        "SELECT created_at, order_id FROM {ks}.orders_by_customer WHERE customer_id = ? LIMIT ?"
    ),
    "customer_orders_same_time": (
        "SELECT created_at, order_id FROM {ks}.orders_by_customer WHERE customer_id = ? "
        "AND created_at = ? AND order_id > ? LIMIT ?"
    ),
    "customer_orders_older": (
        "SELECT created_at, order_id FROM {ks}.orders_by_customer WHERE customer_id = ? "
        "AND created_at < ? LIMIT ?"
    ),
    "claim": (
        "INSERT INTO {ks}.idempotency (customer_id, key, order_id, claimed_at, "
        "request_fingerprint) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS"
    ),
    "take_over": (
        "UPDATE {ks}.idempotency SET order_id = ?, claimed_at = ?, request_fingerprint = ? "
        "WHERE customer_id = ? AND key = ? IF order_id = ?"
    ),
    "unclaim": "DELETE FROM {ks}.idempotency WHERE customer_id = ? AND key = ? IF order_id = ?",
    "awaiting": (
        "INSERT INTO {ks}.pending_by_bucket (bucket, order_id, created_at) VALUES (?, ?, ?)"
    ),
    "awaiting_in": ("SELECT order_id, created_at FROM {ks}.pending_by_bucket WHERE bucket = ?"),
    "not_awaiting": "DELETE FROM {ks}.pending_by_bucket WHERE bucket = ? AND order_id = ?",
}


def _applied(result: acsylla.Result) -> bool:
    row = result.first()
    return bool(row is not None and row.column_value("[applied]"))


class CqlOrderStore:
    def __init__(
        self,
        session: acsylla.Session,
        statements: Statements,
        outbox: CqlOutbox,
        expiry_lookback_hours: int = EXPIRY_LOOKBACK_HOURS,
    ) -> None:
        self.session = session
        self.q = statements
        self.outbox = outbox
        self.expiry_lookback_hours = expiry_lookback_hours

    @classmethod
    async def open(
        cls, session: acsylla.Session, keyspace: str, outbox: CqlOutbox, **options: Any
    ) -> CqlOrderStore:
        """The store of ``keyspace.orders``; ``outbox`` writes the events of its changes (the
        kit's CQL outbox on the same table)."""
        statements = await Statements.prepare(session, keyspace, STATEMENTS)
        return cls(session, statements, outbox, **options)

    # -- idempotency keys --------------------------------------------------------------------

    async def claim_idempotency_key(
        self, customer_id: str, key: str, claimant: KeyHolder
    ) -> KeyHolder:
        values = [customer_id, key, claimant.order_id, claimant.claimed_at, claimant.fingerprint]
        row = (await self.session.execute(self.q("claim", values))).first()
        if row is None or row.column_value("[applied]"):
            return claimant
        return KeyHolder(
            str(row.column_value("order_id")),
            row.column_value("claimed_at"),
            row.column_value("request_fingerprint"),
        )

    async def take_over_idempotency_key(
        self, customer_id: str, key: str, previous: str, claimant: KeyHolder
    ) -> bool:
        holder = [claimant.order_id, claimant.claimed_at, claimant.fingerprint]
        statement = self.q("take_over", [*holder, customer_id, key, previous])
        return _applied(await self.session.execute(statement))

    async def drop_idempotency_key(self, customer_id: str, key: str, order_id: str) -> None:
        await self.session.execute(self.q("unclaim", [customer_id, key, order_id]))

    # -- writes ------------------------------------------------------------------------------

    def _event_rows(self, order: Order, event: CloudEvent) -> list[acsylla.Statement]:
        entry = order.history[-1]
        return [
            self.q("history", [order.id, event.id, entry.status.value, entry.at, entry.reason]),
            self.outbox.event_row(event),
        ]

    def _line_rows(self, order: Order) -> list[acsylla.Statement]:
        return [
            self.q(
                "line",
                [
                    order.id,
                    str(uuid.uuid1()),
                    line.item_id,
                    line.name,
                    line.upc,
                    line.quantity,
                    line.unit_price.amount,
                ],
            )
            for line in order.lines
        ]

    async def _run_batch(
        self, order_id: str, event: CloudEvent, statements: list[acsylla.Statement]
    ) -> bool:
        batch = acsylla.create_batch_logged()
        for statement in statements:
            batch.add_statement(statement)
        try:
            return _applied(await self.session.execute_batch(batch))
        except TIMEOUTS:
            log.warning("conditional batch timed out; reading at SERIAL", extra={"id": order_id})
            return await self.outbox.written(event)

    async def create(self, order: Order, event: CloudEvent) -> None:
        await self.outbox.hint(event)
        await self.session.execute(
            self.q("by_customer", [order.customer_id, order.created_at, order.id, order.status])
        )
        await self.session.execute(
            self.q("awaiting", [hour_bucket(order.created_at), order.id, order.created_at])
        )
        address = order.shipping_address.as_dict() if order.shipping_address else None
        head = self.q(
            "create",
            [
                order.id,
                order.status.value,
                order.version,
                order.customer_id,
                order.total.amount,
                order.currency,
                address,
                order.created_at,
                order.updated_at,
                set(order.applied_events),
            ],
        )
        statements = [head, *self._line_rows(order), *self._event_rows(order, event)]
        if not await self._run_batch(order.id, event, statements):
            raise RuntimeError(f"order {order.id} already exists")

    async def transition(
        self,
        order: Order,
        expected_version: int,
        event: CloudEvent,
        *,
        replace_lines: bool = False,
        applied_events: frozenset[str] = frozenset(),
    ) -> bool:
        await self.outbox.hint(event)
        values: list[Any] = [
            order.status.value,
            order.version,
            order.updated_at,
            order.total.amount,
            order.currency,
        ]
        if not applied_events:
            head = self.q("move", [*values, order.id, expected_version])
        else:
            head = self.q("move_once", [*values, set(applied_events), order.id, expected_version])
        statements = [head, *self._event_rows(order, event)]
        if replace_lines:
            old = await self.session.execute(
                self.q("line_ids", [order.id], consistency=acsylla.Consistency.SERIAL)
            )
            statements += [self.q("drop_line", [order.id, r.column_value("row_id")]) for r in old]
            statements += self._line_rows(order)
        applied = await self._run_batch(order.id, event, statements)
        # Housekeeping once the batch has decided: a failure here must not turn a change that
        # applied into an error (the caller would undo or retry a change that happened). The
        # status in orders_by_customer is informative only (the list reads the order itself),
        # and a hint whose event was never written is dropped by the outbox after its grace.
        try:
            if applied:
                await self.session.execute(
                    self.q(
                        "by_customer",
                        [order.customer_id, order.created_at, order.id, order.status],
                    )
                )
            else:
                await self.outbox.unhint(order.id, event.id)
        except acsylla.errors.CassException:
            log.warning("could not tidy up after a transition", extra={"id": order.id})
        return applied

    # -- reads -------------------------------------------------------------------------------

    async def get(self, order_id: str, *, serial: bool = False) -> Order | None:
        options = {"consistency": acsylla.Consistency.SERIAL} if serial else {}
        rows = [
            r.as_dict() for r in await self.session.execute(self.q("get", [order_id], **options))
        ]
        if not rows or rows[0].get("version") is None:
            return None
        head = rows[0]
        lines = tuple(
            OrderLine(
                item_id=r["item_id"],
                quantity=r["quantity"],
                unit_price=Money(r["unit_amount"], head["currency"]),
                name=r["item_name"],
                upc=r["item_upc"],
            )
            for r in rows
            if r["row_kind"] == "line"
        )
        history = tuple(
            HistoryEntry(OrderStatus(r["to_status"]), r["at"], r["reason"])
            for r in rows
            if r["row_kind"] == "history"
        )
        return Order(
            id=str(head["order_id"]),
            customer_id=str(head["customer_id"]),
            status=OrderStatus(head["status"]),
            version=head["version"],
            lines=lines,
            currency=head["currency"],
            created_at=head["created_at"],
            updated_at=head["updated_at"],
            # An address of an older order that lacks a required field reads as none; the
            # row keeps it (shopkit.addresses.Address.stored).
            shipping_address=Address.stored(head.get("shipping_address")),
            history=history,
            applied_events=frozenset(head.get("applied_events") or ()),
        )

    async def customer_orders(
        self, customer_id: str, limit: int, after: OrderKey | None
    ) -> list[OrderKey]:
        """Up to ``limit`` keys of a customer's orders, newest first, after ``after``: the
        partition's clustering order (created_at DESC, order_id ASC), sought to by key so that
        an order placed or dropped meanwhile neither repeats nor skips one. Two single-column
        slices (the rest of ``after``'s millisecond, then older ones) rather than one
        multi-column slice over mixed clustering orders, which engines answer differently."""
        if after is None:
            return self._keys(
                await self.session.execute(self.q("customer_orders", [customer_id, limit]))
            )
        at, order_id = after
        same = self.q("customer_orders_same_time", [customer_id, at, order_id, limit])
        keys = self._keys(await self.session.execute(same))
        if len(keys) < limit:
            older = self.q("customer_orders_older", [customer_id, at, limit - len(keys)])
            keys += self._keys(await self.session.execute(older))
        return keys

    @staticmethod
    def _keys(result: acsylla.Result) -> list[OrderKey]:
        # Each row is read as it is iterated: acsylla reuses the row object.
        return [
            OrderKey(r.column_value("created_at"), str(r.column_value("order_id"))) for r in result
        ]

    async def awaiting_payment_since(self, cutoff: datetime) -> list[str]:
        last = hour_bucket(cutoff)
        results = await asyncio.gather(
            *(
                self.session.execute(self.q("awaiting_in", [bucket]))
                for bucket in range(last - self.expiry_lookback_hours, last + 1)
            )
        )
        return [
            str(row.column_value("order_id"))
            for result in results
            for row in result
            if row.column_value("created_at") <= cutoff
        ]

    async def forget_awaiting(self, order: Order) -> None:
        await self.session.execute(
            self.q("not_awaiting", [hour_bucket(order.created_at), order.id])
        )
