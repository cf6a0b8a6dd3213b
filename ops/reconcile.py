"""The shop's books, reconciled: ``make reconcile`` (``python -m ops.reconcile``).

Reads every service's database directly (not through the services: an audit must not trust
the code it audits) and the card processor's own books, then checks:

* **Stock, per item**: every unit received (the initial stock plus restocks) is available,
  held for an open order, or sold to a paid order: ``received = available + held + sold``;
  and the item's ``reserved`` counter equals what its held reservations add up to.
* **Stock, per order**: an order awaiting payment holds exactly its lines; a paid or completed
  order (or one cancelled after it was paid: a refund is not a return) sold exactly its
  lines; a cancelled unpaid order holds nothing; no reservation without an order.
* **Money, per order**, over its payments that still hold money (not refunded in full, as a
  payment refused for an order that changed is): a PAID or COMPLETED order's were captured
  exactly its total and refunded less than that (an admin's partial refund is a recorded
  adjustment, not a difference); any other order has none left (never paid, or refunded in
  full after a cancellation).
* **Processor**: every charge and refund the processor made is in the shop's ledger with the
  same amount, and every ledger entry is one the processor made.

Events take a moment to cross services, so a run waits until the books agree, up to
``--settle`` seconds, and then prints every discrepancy still left; it exits 1 if there is any,
and 2, naming the store, if a store or the processor cannot be read (the shop is not running).

Where it looks is read from the services' own settings variables, whose defaults are the local
stack's (``make up``): ``ITEMS_MONGO_URL`` and ``ITEMS_DATABASE``; ``ORDERS_CQL_HOSTS``,
``ORDERS_CQL_PORT`` and ``ORDERS_KEYSPACE``; ``PAYMENTS_DATABASE_URL`` (default: the stack's
MariaDB: the server ``MYSQL_URL`` names, or the one on ``SHOP_MYSQL_PORT`` with the root
password in ``.data/secrets.env``);
``SHOP_PROCESSOR_URL`` and ``SHOP_PROCESSOR_API_KEY`` (default: the local fake processor and the
key in ``.data/secrets.env``). Point them at another deployment to reconcile it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import acsylla
import httpx
import sqlalchemy as sa
from motor.motor_asyncio import AsyncIOMotorClient

from shopkit.sql import create_engine
from stack.local import MYSQL_PASSWORD, PAYMENTS_DATABASE, Ports, local_mysql_url, read_secrets
from stack.process import REPO_ROOT
from subgraphs.items.settings import ItemsSettings
from subgraphs.orders.settings import OrdersSettings
from subgraphs.payments.settings import PaymentsSettings
from subgraphs.payments.store.tables import LedgerRow, PaymentRow

OPEN = {"PENDING_PAYMENT", "PAYMENT_FAILED"}
PAID = {"PAID", "COMPLETED"}
ENDED = {"CANCELLED", "REFUNDED"}
Lines = dict[str, int]  # item id -> quantity


@dataclass
class ItemCounts:
    available: int
    reserved: int
    received: int | None  # None: an item stored before the counter existed
    moves_in_flight: int


@dataclass
class Reservation:
    status: str  # HELD, RELEASED, COMMITTED
    lines: Lines
    in_flight: bool


@dataclass
class Order:
    status: str
    total: tuple[int, str]
    lines: Lines = field(default_factory=dict)
    was_paid: bool = False  # PAID is in its history


class Captured(NamedTuple):
    """What an order's payments that still hold money captured and refunded (minor units)."""

    captured: int
    refunded: int
    currency: str


@dataclass
class Books:
    items: dict[str, ItemCounts]
    reservations: dict[str, Reservation]
    orders: dict[str, Order]
    money: dict[str, Captured]  # order id -> what its payments captured and refunded
    ledger: dict[tuple[str, str], int]  # (kind, processor ref) -> amount
    processor: dict[tuple[str, str], int]  # (kind, processor id) -> amount


# -- reading -------------------------------------------------------------------------------


async def read_items(settings: ItemsSettings) -> tuple[dict[str, ItemCounts], dict[str, Any]]:
    client: AsyncIOMotorClient = AsyncIOMotorClient(
        settings.mongo_url, serverSelectionTimeoutMS=5000
    )
    try:
        db = client[settings.database]
        items = {
            str(doc["_id"]): ItemCounts(
                available=int(doc.get("available", 0)),
                reserved=int(doc.get("reserved", 0)),
                received=doc.get("received"),
                moves_in_flight=len(doc.get("pending") or []),
            )
            async for doc in db["items"].find({})
        }
        reservations = {
            str(doc["_id"]): Reservation(
                status=str(doc["status"]),
                lines=_lines((line["item_id"], line["quantity"]) for line in doc["lines"]),
                in_flight=doc.get("change") is not None,
            )
            async for doc in db["reservations"].find({})
        }
    finally:
        client.close()
    return items, reservations


async def read_orders(settings: OrdersSettings) -> dict[str, Order]:
    cluster = acsylla.create_cluster(
        [h.strip() for h in settings.cql_hosts.split(",")],
        port=settings.cql_port,
        protocol_version=4,
        connect_timeout=5.0,
        request_timeout=30.0,
        log_level="disabled",
    )
    session = await cluster.create_session()
    orders: dict[str, Order] = {}
    query = (
        "SELECT order_id, status, total_amount, currency, row_kind, item_id, quantity, "
        f"to_status FROM {settings.keyspace}.orders"
    )
    try:
        page_state = None
        while True:
            result = await session.execute(
                acsylla.create_statement(query, page_size=1000, page_state=page_state)
            )
            for row in result:
                r = row.as_dict()
                if r["status"] is None:
                    continue  # the remains of an order whose creation never applied
                order = orders.setdefault(
                    str(r["order_id"]),
                    Order(status=r["status"], total=(r["total_amount"], r["currency"])),
                )
                if r["row_kind"] == "line":
                    order.lines[r["item_id"].lower()] = (
                        order.lines.get(r["item_id"].lower(), 0) + r["quantity"]
                    )
                elif r["row_kind"] == "history" and r["to_status"] == "PAID":
                    order.was_paid = True
            if not result.has_more_pages():
                break
            page_state = result.page_state()
    finally:
        await session.close()
    return orders


async def read_payments(
    settings: PaymentsSettings,
) -> tuple[dict[str, Captured], dict[tuple[str, str], int]]:
    engine = create_engine(settings.database_url)
    # SQLAlchemy sets __table__ on a table=True model; SQLModel's base class does not declare it.
    payments, ledger = PaymentRow.__table__, LedgerRow.__table__  # type: ignore[attr-defined]
    try:
        async with engine.connect() as connection:
            money: dict[str, Captured] = {}
            rows = await connection.execute(
                sa.select(
                    payments.c.order_id,
                    payments.c.captured,
                    payments.c.refunded,
                    payments.c.currency,
                )
            )
            for order_id, captured, refunded, currency in rows:
                if captured == refunded:
                    continue  # gave everything back: it holds nothing for the order
                before = money.get(order_id, Captured(0, 0, currency))
                money[order_id] = Captured(
                    before.captured + captured, before.refunded + refunded, currency
                )
            entries = await connection.execute(
                sa.select(ledger.c.kind, ledger.c.processor_ref, ledger.c.amount)
            )
            books = {(kind, ref): int(amount) for kind, ref, amount in entries}
    finally:
        await engine.dispose()
    return money, books


async def read_processor(url: str, api_key: str) -> dict[tuple[str, str], int]:
    """Every succeeded charge and refund the processor made (its Stripe-like list API)."""
    books: dict[tuple[str, str], int] = {}
    headers = {"authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=30) as http:
        for kind, path in (("charge", "/v1/charges"), ("refund", "/v1/refunds")):
            after: str | None = None
            while True:
                params = {"limit": "100", **({"starting_after": after} if after else {})}
                response = await http.get(path, params=params)
                response.raise_for_status()
                page = response.json()
                for obj in page["data"]:
                    if obj.get("status") == "succeeded":
                        books[(kind, obj["id"])] = int(obj["amount"])
                if not page.get("has_more") or not page["data"]:
                    break
                after = page["data"][-1]["id"]
    return books


T = TypeVar("T")


class Unreadable(Exception):
    """A store or the processor could not be read: there are no books to check."""


async def _reading(what: str, books: Awaitable[T]) -> T:
    try:
        return await books
    except Exception as error:
        raise Unreadable(
            f"Cannot read {what}: {type(error).__name__}: {error}. Is the shop running "
            "(`make up` starts it locally), or do the settings variables point at it?"
        ) from error


async def read_books(processor_url: str, processor_key: str) -> Books:
    (items, reservations), orders, (money, ledger), processor = await asyncio.gather(
        _reading("the items database (ITEMS_MONGO_URL)", read_items(ItemsSettings())),
        _reading("the orders keyspace (ORDERS_CQL_HOSTS)", read_orders(OrdersSettings())),
        _reading("the payments database (PAYMENTS_DATABASE_URL)", read_payments(_payments())),
        _reading(
            f"the card processor's books ({processor_url})",
            read_processor(processor_url, processor_key),
        ),
    )
    return Books(items, reservations, orders, money, ledger, processor)


# -- checking ------------------------------------------------------------------------------


def _lines(pairs: Any) -> Lines:
    lines: Lines = defaultdict(int)
    for item_id, quantity in pairs:
        lines[str(item_id).lower()] += int(quantity)
    return dict(lines)


def check(books: Books) -> list[str]:
    """Every discrepancy, one line each."""
    problems: list[str] = []
    held: Counter[str] = Counter()
    sold: Counter[str] = Counter()
    for order_id, reservation in books.reservations.items():
        target = held if reservation.status == "HELD" else sold
        if reservation.status in ("HELD", "COMMITTED"):
            target.update(reservation.lines)
        order = books.orders.get(order_id)
        if reservation.in_flight:
            problems.append(f"reservation {order_id}: a change is still in flight")
        elif order is None and reservation.status != "RELEASED":
            problems.append(
                f"reservation {order_id}: {reservation.status} but there is no such order"
            )
    for item_id, counts in books.items.items():
        if counts.moves_in_flight:
            problems.append(f"item {item_id}: {counts.moves_in_flight} stock moves in flight")
        if counts.reserved != held[item_id]:
            problems.append(
                f"item {item_id}: reserved counter {counts.reserved} but its held "
                f"reservations add up to {held[item_id]}"
            )
        if counts.received is not None:
            accounted = counts.available + held[item_id] + sold[item_id]
            if counts.received != accounted:
                problems.append(
                    f"item {item_id}: received {counts.received} != available "
                    f"{counts.available} + held {held[item_id]} + sold {sold[item_id]}"
                )
    for order_id, order in books.orders.items():
        problems += _check_order(order_id, order, books)
    for key in sorted(books.processor.keys() - books.ledger.keys()):
        problems.append(
            f"processor {key[0]} {key[1]} of {books.processor[key]} is not in the ledger"
        )
    for key in sorted(books.ledger.keys() - books.processor.keys()):
        problems.append(f"ledger {key[0]} {key[1]} of {books.ledger[key]} was never made")
    for key in sorted(books.ledger.keys() & books.processor.keys()):
        if books.ledger[key] != books.processor[key]:
            problems.append(
                f"{key[0]} {key[1]}: ledger says {books.ledger[key]}, processor "
                f"{books.processor[key]}"
            )
    return problems


def _check_order(order_id: str, order: Order, books: Books) -> list[str]:
    problems = []
    reservation = books.reservations.get(order_id)
    status = reservation.status if reservation else "none"
    lines = reservation.lines if reservation else {}
    if order.status in OPEN:
        expected = ("HELD", order.lines)
    elif order.status in PAID or (order.status in ENDED and order.was_paid):
        expected = ("COMMITTED", order.lines)
    else:
        expected = ("RELEASED", lines)  # a cancelled unpaid order holds nothing
        if status == "none":
            expected = ("none", {})
    if (status, lines) != expected:
        problems.append(
            f"order {order_id} ({order.status}): stock {status} {lines}, "
            f"expected {expected[0]} {expected[1]}"
        )
    amount, currency = order.total
    money = books.money.get(order_id, Captured(0, 0, currency))
    net = money.captured - money.refunded
    if order.status in PAID:
        kept_right = money.captured == amount and (amount == 0 or money.refunded < amount)
        wanted = f"captured {amount}, refunded less"
    else:
        kept_right, wanted = net == 0, "net 0"
    if not kept_right or (net and money.currency != currency):
        problems.append(
            f"order {order_id} ({order.status}, total {amount} {currency}): captured "
            f"{money.captured}, refunded {money.refunded} {money.currency}, expected {wanted}"
        )
    return problems


# -- the command ---------------------------------------------------------------------------


def _payments() -> PaymentsSettings:
    """``PAYMENTS_*``, its database by default the local stack's (``make up``)."""
    if os.environ.get("PAYMENTS_DATABASE_URL"):
        return PaymentsSettings()
    server = os.environ.get("MYSQL_URL") or local_mysql_url(
        Ports.from_env().mysql, _local_secret(MYSQL_PASSWORD)
    )
    return PaymentsSettings(database_url=f"{server.rstrip('/')}/{PAYMENTS_DATABASE}")


def _local_secret(wanted: str) -> str:
    """A secret the local stack generated into ``.data/secrets.env``; empty if none."""
    return read_secrets(REPO_ROOT / ".data" / "secrets.env").get(wanted, "")


async def reconcile(settle: float, out: Any = sys.stdout) -> int:
    processor_url = os.environ.get("SHOP_PROCESSOR_URL", "http://127.0.0.1:4005")
    processor_key = os.environ.get("SHOP_PROCESSOR_API_KEY") or _local_secret(
        "SHOP_PROCESSOR_API_KEY"
    )
    deadline = time.monotonic() + settle
    while True:
        books = await read_books(processor_url, processor_key)
        problems = check(books)
        if not problems or time.monotonic() >= deadline:
            break
        await asyncio.sleep(1.0)
    print(
        f"{len(books.items)} items, {len(books.orders)} orders, "
        f"{len(books.reservations)} reservations, {len(books.ledger)} ledger entries, "
        f"{len(books.processor)} processor charges and refunds",
        file=out,
    )
    for problem in problems:
        print(f"DISCREPANCY {problem}", file=out)
    print("The books reconcile." if not problems else f"{len(problems)} discrepancies.", file=out)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.reconcile", description=__doc__)
    parser.add_argument(
        "--settle",
        type=float,
        default=15.0,
        help="seconds to wait for events in flight before reporting (default 15)",
    )
    args = parser.parse_args()
    try:
        return asyncio.run(reconcile(args.settle))
    except Unreadable as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
