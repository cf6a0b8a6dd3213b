"""What to do with a held reservation, given what the orders service says about its order.

Stock is held only for an order that may still be paid. The orphan-hold sweep asks orders
about every hold older than a grace period: a hold whose order does not exist (its creation
failed or its process died after reserving) or has ended unpaid is released; one whose order
was paid is committed with the order's lines, as ``order.paid`` would (a commit happens once);
one whose order still awaits payment is kept. Whatever is not certain keeps the hold: a status
this rule does not know, and any failure to ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class HoldVerdict(StrEnum):
    RELEASE = "release"
    COMMIT = "commit"
    KEEP = "keep"


@dataclass(frozen=True)
class OrderState:
    """What orders says about an order: its status and lines ``(item id, quantity)``."""

    status: str
    lines: list[tuple[str, int]]


ENDED_UNPAID = frozenset({"CANCELLED", "REFUNDED"})
PAID = frozenset({"PAID", "COMPLETED"})


def hold_verdict(order: OrderState | None) -> HoldVerdict:
    """``order`` None: orders says there is no such order."""
    if order is None or order.status in ENDED_UNPAID:
        return HoldVerdict.RELEASE
    if order.status in PAID:
        return HoldVerdict.COMMIT
    return HoldVerdict.KEEP
