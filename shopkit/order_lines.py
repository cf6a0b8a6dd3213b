"""The rule for the lines of one order, the same in orders (the customer's lines) and items
(the stock held or sold for an order): at most ``MAX_LINES`` lines; each quantity an integer
from 1 to ``MAX_QUANTITY``; lines naming the same item are merged into one line with the
summed quantity, which must still be at most ``MAX_QUANTITY``; at least one line. Merging
first means a reservation never counts an item twice.

One set of limits for both, orders' (100 lines, 1,000 units of one item): orders refuses a
customer's lines with them, and items only ever sees lines orders has checked (``reserveStock``,
the lines of ``order.paid``, the lines the hold sweep reads from orders), so items never
refuses what orders accepted. Items' former limit of 10,000 units could only be reached by
lines no order can have. The lines are counted as given, before merging: a request with more
is refused before any is looked at.

Standard library only, so any ``domain/`` may import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from shopkit.errors import InvalidInput

MAX_LINES = 100
MAX_QUANTITY = 1000


def named_item(value: Any) -> str:
    """The default item id check: any non-blank string, trimmed."""
    item_id = value.strip() if isinstance(value, str) else ""
    if not item_id:
        raise InvalidInput("Every line needs an item id.", field="itemId")
    return item_id


def merge_lines(
    lines: Iterable[tuple[Any, Any]], item_id: Callable[[Any], str] = named_item
) -> dict[str, int]:
    """The quantity per item, in first-seen order; ``item_id`` checks and normalises each
    line's item id (its ``InvalidInput`` names the field)."""
    given = list(lines)
    if len(given) > MAX_LINES:
        raise InvalidInput(
            f"An order can have at most {MAX_LINES} lines; got {len(given)}.", field="lines"
        )
    merged: dict[str, int] = {}
    for raw_id, quantity in given:
        key = item_id(raw_id)
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not 1 <= quantity <= MAX_QUANTITY
        ):
            raise InvalidInput(
                f"The quantity of item {key} must be between 1 and {MAX_QUANTITY}; got {quantity}.",
                itemId=key,
                field="quantity",
            )
        merged[key] = merged.get(key, 0) + quantity
    if not merged:
        raise InvalidInput("An order needs at least one line.", field="lines")
    for key, quantity in merged.items():
        if quantity > MAX_QUANTITY:
            raise InvalidInput(
                f"The lines for item {key} add up to {quantity}; at most {MAX_QUANTITY} "
                "of one item per order.",
                itemId=key,
                field="quantity",
            )
    return merged
