"""Settling an unpaid order with its payments (domain/payments.py): which attempt pays it,
which is refused, and that a payment decided once is never decided again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from subgraphs.orders.domain.model import Money, Order, OrderLine, OrderStatus
from subgraphs.orders.domain.payments import (
    PaymentAttempt,
    PaymentState,
    Settlement,
    payment_mark,
    pays_for,
    refusal_reason,
    settle,
)


def unpaid_order(total: int = 500, decided: frozenset[str] = frozenset()) -> Order:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    return Order(
        id="o1",
        customer_id="c1",
        status=OrderStatus.PENDING_PAYMENT,
        version=1,
        lines=(OrderLine("pen", 1, Money(total, "EUR")),),
        currency="EUR",
        created_at=at,
        updated_at=at,
        applied_events=decided,
    )


def attempt(pid: str, state: str, amount: int = 500, refunded: int = 0, currency: str = "EUR"):
    return PaymentAttempt(pid, PaymentState.parse(state), Money(amount, currency), refunded)


@pytest.mark.parametrize(
    ("attempts", "settlement", "chosen"),
    [
        ([], Settlement.NOTHING, None),
        (
            [attempt("a", "FAILED"), attempt("b", "REFUNDED", refunded=500)],
            Settlement.NOTHING,
            None,
        ),
        ([attempt("a", "FAILED"), attempt("b", "SUCCEEDED")], Settlement.PAY, "b"),
        ([attempt("a", "SUCCEEDED", 250)], Settlement.REFUSE, "a"),
        ([attempt("a", "SUCCEEDED", 500, currency="USD")], Settlement.REFUSE, "a"),
        ([attempt("a", "SUCCEEDED", 250), attempt("b", "SUCCEEDED")], Settlement.PAY, "b"),
        ([attempt("a", "PARTIALLY_REFUNDED", 500, 100)], Settlement.REFUSE, "a"),
        ([attempt("a", "PARTIALLY_REFUNDED", 600, 100)], Settlement.PAY, "a"),
        ([attempt("a", "FAILED"), attempt("b", "PENDING")], Settlement.WAIT, "b"),
        ([attempt("a", "SOMETHING_NEW")], Settlement.WAIT, "a"),
    ],
)
def test_settle_pays_refuses_waits_or_lets_expire(attempts, settlement, chosen):
    action, which = settle(unpaid_order(), attempts)
    assert action is settlement
    assert (which.id if which else None) == chosen


def test_a_payment_decided_before_is_never_decided_again_and_waits_for_its_refund():
    order = unpaid_order(decided=frozenset({payment_mark("a")}))
    assert settle(order, [attempt("a", "SUCCEEDED")]) == (
        Settlement.WAIT,
        attempt("a", "SUCCEEDED"),
    )
    assert settle(order, [attempt("a", "REFUNDED", refunded=500)]) == (Settlement.NOTHING, None)


def test_a_payment_pays_only_exactly_the_total():
    order = unpaid_order(500)
    assert pays_for(order, Money(500, "EUR"))
    assert not pays_for(order, Money(499, "EUR"))
    assert not pays_for(order, Money(500, "USD"))
    assert refusal_reason(order, Money(250, "EUR")) == (
        "the payment charged 250 EUR but the order's total is 500 EUR"
    )
