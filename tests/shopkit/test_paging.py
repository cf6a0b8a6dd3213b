"""The kit's one paging rule (docs/api-conventions.md, "Lists"): the bad inputs every
connection refuses alike, and paging by position of a list that only grows at its end."""

from __future__ import annotations

import pytest

from shopkit.errors import InvalidInput
from shopkit.paging import PAGE_MAX, encode_cursor, page_of_list


@pytest.mark.parametrize("first", [0, -1, PAGE_MAX + 1])
def test_a_page_size_out_of_range_is_refused_naming_first(first):
    with pytest.raises(InvalidInput) as info:
        page_of_list([1, 2, 3], kind="history", first=first, after=None)
    assert info.value.extensions["field"] == "first"


@pytest.mark.parametrize(
    "after", ["garbage", encode_cursor("payment", "0"), encode_cursor("history", "x"), ""]
)
def test_a_cursor_of_another_list_or_no_cursor_is_refused_naming_after(after):
    with pytest.raises(InvalidInput) as info:
        page_of_list([1, 2, 3], kind="history", first=1, after=after)
    assert info.value.extensions["field"] == "after"


def test_a_list_pages_by_position_without_repeating_or_skipping():
    nodes = list(range(5))
    seen, after, pages = [], None, 0
    while True:
        page = page_of_list(nodes, kind="refund", first=2, after=after)
        seen += page.nodes
        pages += 1
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert seen == nodes
    assert pages == 3
