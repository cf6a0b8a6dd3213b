"""Validation of the lines a customer orders.

Rules: 1 to 100 distinct items, each quantity 1 to 1000. Lines naming the same item twice are
merged into one line with the summed quantity (the merged quantity must still be at most
1000), so a reservation never counts an item twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from shopkit.errors import InvalidInput

from .model import LineRequest, OrderLine

MAX_LINES = 100
MAX_QUANTITY = 1000


def normalize_lines(lines: Iterable[LineRequest]) -> tuple[LineRequest, ...]:
    given = list(lines)
    if len(given) > MAX_LINES:
        raise InvalidInput(f"An order can have at most {MAX_LINES} lines; got {len(given)}.")
    merged: dict[str, int] = {}
    for line in given:
        item_id = line.item_id.strip()
        if not item_id:
            raise InvalidInput("Every line needs an item id.")
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise InvalidInput(
                f"The quantity of item {item_id} must be between 1 and {MAX_QUANTITY}; "
                f"got {line.quantity}.",
                itemId=item_id,
            )
        merged[item_id] = merged.get(item_id, 0) + line.quantity
    if not merged:
        raise InvalidInput("An order needs at least one line.")
    for item_id, quantity in merged.items():
        if quantity > MAX_QUANTITY:
            raise InvalidInput(
                f"The lines for item {item_id} add up to {quantity}; at most {MAX_QUANTITY} "
                "of one item per order.",
                itemId=item_id,
            )
    return tuple(LineRequest(item_id, quantity) for item_id, quantity in merged.items())


def single_currency(lines: Iterable[OrderLine]) -> str:
    currencies = sorted({line.unit_price.currency for line in lines})
    if len(currencies) != 1:
        raise InvalidInput(
            "All items of an order must be priced in one currency; "
            f"these lines use {', '.join(currencies)}."
        )
    return currencies[0]
