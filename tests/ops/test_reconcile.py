"""The reconciliation's rules on books written by hand: consistent books pass, and each kind
of discrepancy is named. (``tests/e2e`` runs the command itself against real stacks after
their fault tests.)"""

from __future__ import annotations

import os
import subprocess
import sys

from ops.reconcile import Books, Captured, ItemCounts, Order, Reservation, check

PEN, INK = "a" * 24, "b" * 24


def consistent() -> Books:
    """Pens: 10 received, an open order holds 2, a paid order bought 3, 5 are left. Ink: a
    cancelled paid order bought 1 and was refunded (a refund is not a return)."""
    return Books(
        items={
            PEN: ItemCounts(available=5, reserved=2, received=10, moves_in_flight=0),
            INK: ItemCounts(available=4, reserved=0, received=5, moves_in_flight=0),
        },
        reservations={
            "open": Reservation("HELD", {PEN: 2}, in_flight=False),
            "paid": Reservation("COMMITTED", {PEN: 3}, in_flight=False),
            "refunded": Reservation("COMMITTED", {INK: 1}, in_flight=False),
            "dropped": Reservation("RELEASED", {INK: 2}, in_flight=False),
        },
        orders={
            "open": Order("PENDING_PAYMENT", (500, "EUR"), {PEN: 2}),
            "paid": Order("PAID", (750, "EUR"), {PEN: 3}, was_paid=True),
            "refunded": Order("REFUNDED", (100, "EUR"), {INK: 1}, was_paid=True),
            "dropped": Order("CANCELLED", (200, "EUR"), {INK: 2}),
        },
        money={"paid": Captured(750, 0, "EUR")},
        ledger={("charge", "ch_1"): 750, ("charge", "ch_2"): 100, ("refund", "re_1"): 100},
        processor={("charge", "ch_1"): 750, ("charge", "ch_2"): 100, ("refund", "re_1"): 100},
    )


def the_paid_orders_money_named(captured: int, refunded: int) -> str:
    """What the reconciliation says of the paid order of ``consistent()`` (750 EUR) when the
    money payments kept for it is not the order's total."""
    return (
        f"order paid (PAID, total 750 EUR): captured {captured}, refunded {refunded} EUR, "
        "expected captured 750, refunded less"
    )


def test_consistent_books_reconcile():
    assert check(consistent()) == []


def test_stock_that_appeared_from_nowhere_is_named():
    books = consistent()
    books.items[PEN].available += 1
    assert check(books) == [f"item {PEN}: received 10 != available 6 + held 2 + sold 3"]


def test_a_reserved_counter_that_disagrees_with_the_held_reservations_is_named():
    books = consistent()
    books.items[PEN].reserved = 3
    assert any(
        "reserved counter 3 but its held reservations add up to 2" in p for p in check(books)
    )


def test_a_hold_without_an_order_and_an_order_without_its_hold_are_named():
    books = consistent()
    books.reservations["ghost"] = Reservation("HELD", {INK: 1}, in_flight=False)
    books.items[INK].reserved, books.items[INK].available = 1, 3
    del books.reservations["open"]
    problems = check(books)
    assert "reservation ghost: HELD but there is no such order" in problems
    assert any(p.startswith("order open (PENDING_PAYMENT): stock none") for p in problems)


def test_a_paid_order_charged_another_amount_is_named():
    books = consistent()
    books.money["paid"] = Captured(250, 0, "EUR")
    assert check(books) == [the_paid_orders_money_named(captured=250, refunded=0)]


def test_a_partial_refund_of_a_paid_order_is_an_adjustment_but_a_full_one_is_named():
    books = consistent()
    books.money["paid"] = Captured(750, 500, "EUR")
    books.ledger[("refund", "re_2")] = books.processor[("refund", "re_2")] = 500
    assert check(books) == []
    del books.money["paid"]  # refunded in full (read_payments skips it), yet still PAID
    assert check(books) == [the_paid_orders_money_named(captured=0, refunded=0)]


def test_money_kept_for_an_unpaid_or_cancelled_order_is_named():
    books = consistent()
    books.money["open"] = Captured(500, 0, "EUR")
    books.money["refunded"] = Captured(100, 60, "EUR")
    problems = check(books)
    assert any(p.startswith("order open (PENDING_PAYMENT") for p in problems)
    assert any(p.startswith("order refunded (REFUNDED") for p in problems)


def test_the_processor_and_the_ledger_must_hold_the_same_entries():
    books = consistent()
    books.processor[("refund", "re_2")] = 50
    books.ledger[("charge", "ch_3")] = 900
    books.ledger[("charge", "ch_1")] = 700
    assert check(books) == [
        "processor refund re_2 of 50 is not in the ledger",
        "ledger charge ch_3 of 900 was never made",
        "charge ch_1: ledger says 700, processor 750",
    ]


def test_changes_in_flight_are_reported_until_they_settle():
    books = consistent()
    books.reservations["open"].in_flight = True
    books.items[PEN].moves_in_flight = 1
    problems = check(books)
    assert "reservation open: a change is still in flight" in problems
    assert f"item {PEN}: 1 stock moves in flight" in problems


def test_books_that_cannot_be_read_are_named_with_exit_2_and_no_traceback(tmp_path):
    """Nothing listens on port 1: the run names what it could not read and says how to start
    the shop, instead of a driver's traceback."""
    nowhere = {
        "ITEMS_MONGO_URL": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500",
        "ORDERS_CQL_HOSTS": "127.0.0.1",
        "ORDERS_CQL_PORT": "1",
        "PAYMENTS_DATABASE_URL": "mysql+aiomysql://shop:shop@127.0.0.1:1/payments",
        "SHOP_PROCESSOR_URL": "http://127.0.0.1:1",
        "SHOP_PROCESSOR_API_KEY": "not-used",
        "SHOP_DATA_DIR": str(tmp_path),
    }
    run = subprocess.run(
        [sys.executable, "-m", "ops.reconcile", "--settle", "0"],
        env=os.environ | nowhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stderr.startswith("Cannot read the "), run.stderr
    assert "make up" in run.stderr
    assert "Traceback" not in run.stderr
