"""The lines a customer orders: checked and merged by the kit's rule
(``shopkit/order_lines.py``: 1 to 100 lines, 1 to 1,000 units of one item, the same item
named twice merged into one line), and priced in one currency.
"""

from __future__ import annotations

from collections.abc import Iterable

from shopkit.errors import InvalidInput
from shopkit.order_lines import merge_lines

from .model import LineRequest, OrderLine


def normalize_lines(lines: Iterable[LineRequest]) -> tuple[LineRequest, ...]:
    merged = merge_lines((line.item_id, line.quantity) for line in lines)
    return tuple(LineRequest(item_id, quantity) for item_id, quantity in merged.items())


def single_currency(lines: Iterable[OrderLine]) -> str:
    currencies = sorted({line.unit_price.currency for line in lines})
    if len(currencies) != 1:
        raise InvalidInput(
            "All items of an order must be priced in one currency; "
            f"these lines use {', '.join(currencies)}."
        )
    return currencies[0]
