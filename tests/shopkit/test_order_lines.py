"""The one rule for an order's lines (shopkit/order_lines.py), and that orders and items both
apply it with the same limits."""

from __future__ import annotations

import pytest

from shopkit.errors import InvalidInput
from shopkit.order_lines import MAX_LINES, MAX_QUANTITY, merge_lines
from subgraphs.items.domain.reservation import merge_lines as items_merge_lines
from subgraphs.orders.domain.lines import normalize_lines
from subgraphs.orders.domain.model import LineRequest

ITEM = "a" * 24
OTHER = "b" * 24


def test_the_same_item_named_twice_is_one_line_with_the_summed_quantity():
    assert merge_lines([("pen", 2), ("ink", 1), ("pen", 3)]) == {"pen": 5, "ink": 1}
    assert list(merge_lines([("ink", 1), ("pen", 2), ("ink", 1)])) == ["ink", "pen"]


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, True, "2", None])
def test_a_quantity_outside_1_to_the_maximum_is_refused(quantity):
    with pytest.raises(InvalidInput, match=f"between 1 and {MAX_QUANTITY}") as caught:
        merge_lines([("pen", quantity)])
    assert caught.value.extensions["field"] == "quantity"


def test_merged_quantities_may_reach_the_maximum_but_not_pass_it():
    assert merge_lines([("pen", MAX_QUANTITY - 1), ("pen", 1)]) == {"pen": MAX_QUANTITY}
    with pytest.raises(InvalidInput, match=f"add up to {MAX_QUANTITY + 1}"):
        merge_lines([("pen", MAX_QUANTITY), ("pen", 1)])


def test_lines_are_counted_as_given_up_to_the_maximum():
    assert len(merge_lines([(f"i{n}", 1) for n in range(MAX_LINES)])) == MAX_LINES
    with pytest.raises(InvalidInput, match=f"at most {MAX_LINES} lines; got {MAX_LINES + 1}"):
        merge_lines([("pen", 1)] * (MAX_LINES + 1))


def test_no_line_or_a_blank_item_is_refused():
    with pytest.raises(InvalidInput, match="at least one line"):
        merge_lines([])
    with pytest.raises(InvalidInput, match="item id"):
        merge_lines([("  ", 1)])


def test_the_item_id_check_is_the_callers_and_merges_what_it_makes_equal():
    assert merge_lines([("PEN", 1), ("pen", 2)], item_id=str.lower) == {"pen": 3}


def test_orders_and_items_accept_and_refuse_the_same_lines():
    """One set of limits: what orders accepts, items accepts; what orders refuses, items does."""
    at_limits = [(ITEM, MAX_QUANTITY - 1), (ITEM, 1), (OTHER, 1)]
    assert items_merge_lines(at_limits) == {ITEM: MAX_QUANTITY, OTHER: 1}
    assert normalize_lines(LineRequest(i, q) for i, q in at_limits) == (
        LineRequest(ITEM, MAX_QUANTITY),
        LineRequest(OTHER, 1),
    )
    for too_much in ([(ITEM, MAX_QUANTITY), (ITEM, 1)], [(ITEM, 1)] * (MAX_LINES + 1)):
        with pytest.raises(InvalidInput):
            items_merge_lines(too_much)
        with pytest.raises(InvalidInput):
            normalize_lines(LineRequest(i, q) for i, q in too_much)


def test_items_merges_two_spellings_of_one_item_id():
    assert items_merge_lines([(ITEM.upper(), 1), (ITEM, 2)]) == {ITEM: 3}
