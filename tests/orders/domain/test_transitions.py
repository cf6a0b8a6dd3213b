"""The order state machine and line validation (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shopkit.errors import Conflict, InvalidInput
from shopkit.order_lines import MAX_LINES
from subgraphs.orders.domain.lines import normalize_lines, single_currency
from subgraphs.orders.domain.model import (
    Address,
    LineRequest,
    Money,
    Order,
    OrderLine,
    OrderStatus,
)
from subgraphs.orders.domain.payments import (
    PaymentAttempt,
    PaymentState,
    Settlement,
    payment_mark,
    pays_for,
    refusal_reason,
    settle,
)
from subgraphs.orders.domain.transitions import (
    Command,
    PaymentOutcome,
    after_payment,
    next_status,
)

S = OrderStatus


@pytest.mark.parametrize(
    ("current", "command", "target"),
    [
        (S.PENDING_PAYMENT, Command.UPDATE, S.PENDING_PAYMENT),
        (S.PAYMENT_FAILED, Command.UPDATE, S.PENDING_PAYMENT),
        (S.PENDING_PAYMENT, Command.CANCEL, S.CANCELLED),
        (S.PAYMENT_FAILED, Command.CANCEL, S.CANCELLED),
        (S.PAID, Command.CANCEL, S.CANCELLED),
        (S.PAID, Command.COMPLETE, S.COMPLETED),
        (S.PENDING_PAYMENT, Command.EXPIRE, S.CANCELLED),
        (S.PAYMENT_FAILED, Command.EXPIRE, S.CANCELLED),
    ],
)
def test_allowed_commands_lead_to_their_status(current, command, target):
    assert next_status("o1", current, command) == target


@pytest.mark.parametrize(
    ("current", "command"),
    [
        (S.PAID, Command.UPDATE),
        (S.CANCELLED, Command.UPDATE),
        (S.COMPLETED, Command.CANCEL),
        (S.CANCELLED, Command.CANCEL),
        (S.REFUNDED, Command.CANCEL),
        (S.PENDING_PAYMENT, Command.COMPLETE),
        (S.COMPLETED, Command.COMPLETE),
        (S.PAID, Command.EXPIRE),
    ],
)
def test_disallowed_commands_conflict_naming_the_current_status(current, command):
    with pytest.raises(Conflict) as caught:
        next_status("o1", current, command)
    assert f"is {current.value};" in caught.value.message
    assert caught.value.extensions == {"code": "CONFLICT", "status": current.value}


def test_update_conflict_message_lists_the_statuses_that_allow_it():
    with pytest.raises(Conflict) as caught:
        next_status("o1", S.PAID, Command.UPDATE)
    assert caught.value.message == (
        "Order o1 is PAID; only PENDING_PAYMENT or PAYMENT_FAILED orders can be updated."
    )


@pytest.mark.parametrize(
    ("current", "outcome", "target"),
    [
        (S.PENDING_PAYMENT, PaymentOutcome.SUCCEEDED, S.PAID),
        (S.PAYMENT_FAILED, PaymentOutcome.SUCCEEDED, S.PAID),
        (S.PENDING_PAYMENT, PaymentOutcome.FAILED, S.PAYMENT_FAILED),
        (S.CANCELLED, PaymentOutcome.REFUNDED, S.REFUNDED),
        (S.CANCELLED, PaymentOutcome.SUCCEEDED, None),
        (S.PAID, PaymentOutcome.SUCCEEDED, None),
        (S.PAID, PaymentOutcome.FAILED, None),
        (S.PAYMENT_FAILED, PaymentOutcome.FAILED, None),
        (S.PAID, PaymentOutcome.REFUNDED, None),
        (S.REFUNDED, PaymentOutcome.REFUNDED, None),
        (S.COMPLETED, PaymentOutcome.FAILED, None),
    ],
)
def test_payment_outcomes_move_only_orders_they_apply_to(current, outcome, target):
    assert after_payment(current, outcome) == target


def test_duplicate_item_ids_are_merged_by_summing_quantities():
    lines = normalize_lines([LineRequest("a", 2), LineRequest("b", 1), LineRequest("a", 3)])
    assert lines == (LineRequest("a", 5), LineRequest("b", 1))


@pytest.mark.parametrize("quantity", [0, -1, 1001, 10**12])
def test_quantities_outside_1_to_1000_are_refused(quantity):
    with pytest.raises(InvalidInput, match=f"got {quantity}"):
        normalize_lines([LineRequest("a", quantity)])


def test_merged_quantities_over_1000_are_refused():
    with pytest.raises(InvalidInput, match="add up to 1200"):
        normalize_lines([LineRequest("a", 600), LineRequest("a", 600)])


def test_an_empty_order_is_refused():
    with pytest.raises(InvalidInput, match="at least one line"):
        normalize_lines([])


def test_more_than_100_lines_are_refused():
    with pytest.raises(InvalidInput, match="at most 100 lines; got 101"):
        normalize_lines([LineRequest(f"i{n}", 1) for n in range(MAX_LINES + 1)])


def test_blank_item_ids_are_refused():
    with pytest.raises(InvalidInput, match="item id"):
        normalize_lines([LineRequest("  ", 1)])


def test_lines_in_two_currencies_are_refused():
    lines = [OrderLine("a", 1, Money(100, "EUR")), OrderLine("b", 1, Money(100, "USD"))]
    with pytest.raises(InvalidInput, match="EUR, USD"):
        single_currency(lines)
    assert single_currency(lines[:1]) == "EUR"


def test_address_is_trimmed_and_the_country_upper_cased():
    address = Address.parse(line1="  1 Main St ", line2="  ", city="Springfield", country="us")
    assert (address.line1, address.line2, address.country) == ("1 Main St", None, "US")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"line1": "x" * 201}, "line1"),
        ({"city": "y" * 500}, "city"),
        ({"country": "USA"}, "country"),
        ({"country": "1A"}, "country"),
        ({"country": "ZZ"}, "country"),
    ],
)
def test_address_refuses_over_long_fields_and_bad_countries(fields, field):
    with pytest.raises(InvalidInput) as info:
        Address.parse(**fields)
    assert info.value.extensions["field"] == field


# -- settling an unpaid order with its payments ------------------------------------------------


def unpaid_order(total: int = 500, decided: frozenset[str] = frozenset()) -> Order:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    return Order(
        id="o1",
        customer_id="c1",
        status=S.PENDING_PAYMENT,
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
