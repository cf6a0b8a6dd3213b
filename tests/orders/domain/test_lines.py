"""An order's lines (domain/lines.py): duplicates merged, quantities and line counts
bounded, blank ids and mixed currencies refused."""

from __future__ import annotations

import pytest

from shopkit.errors import InvalidInput
from shopkit.order_lines import MAX_LINES
from subgraphs.orders.domain.lines import normalize_lines, single_currency
from subgraphs.orders.domain.model import LineRequest, Money, OrderLine


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
