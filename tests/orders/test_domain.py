"""The order state machine and line validation (pure domain)."""

from __future__ import annotations

import pytest

from shopkit.errors import Conflict, InvalidInput
from subgraphs.orders.domain.lines import MAX_LINES, normalize_lines, single_currency
from subgraphs.orders.domain.model import Address, LineRequest, Money, OrderLine, OrderStatus
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
    ],
)
def test_address_refuses_over_long_fields_and_bad_countries(fields, field):
    with pytest.raises(InvalidInput) as info:
        Address.parse(**fields)
    assert info.value.extensions["field"] == field
