"""How an order settles with its payments.

Payments charges the order's total as orders reports it, but the order may change while a
charge is in flight (``updateOrder`` is allowed until the order is paid). So a succeeded
payment pays the order only if it charged exactly the order's total (amount and currency) at
the moment it is applied; otherwise the order keeps its status, the payment is *refused*
(``order.payment_refused``) and payments refunds it in full and lets the customer pay the new
total. A ``PAID`` order's captured amount therefore always equals its total, and the stock
items commits (the lines ``order.paid`` carries) always equals its lines.

Each payment is decided once: its id is recorded in the order's ``applied_events`` as
``payment:<id>`` with the decision, so a redelivered event, a replay under another event id
or the reconciliation sweep finding the same payment never decides it again (a refused
payment stays refused even if the order's total later comes back to its amount, since it is
being refunded).

The sweep reads what payments knows of an order's attempts (``PaymentAttempt``) and
``settle`` says what to do with an unpaid order: pay it with a succeeded, matching payment
whose event was lost, refuse a succeeded one that does not match, wait while a payment is in
flight, unknown or still holds money, and only otherwise let it expire.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from shopkit.money import Money

from .model import Order

PAYMENT_MARK = "payment:"


def payment_mark(payment_id: str) -> str:
    """The entry of ``applied_events`` that says this payment was decided for the order."""
    return f"{PAYMENT_MARK}{payment_id}"


def decided(order: Order, payment_id: str) -> bool:
    return payment_mark(payment_id) in order.applied_events


def pays_for(order: Order, charged: Money) -> bool:
    """Whether a payment of ``charged`` pays the order as it is now."""
    return charged == order.total


def refusal_reason(order: Order, charged: Money) -> str:
    total = order.total
    return (
        f"the payment charged {charged.amount} {charged.currency} but the order's total is "
        f"{total.amount} {total.currency}"
    )


class PaymentState(StrEnum):
    """A payment's status as payments reports it; ``UNKNOWN`` for any status this service
    does not know (a newer payments), which is never taken as "nothing in flight"."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, value: object) -> PaymentState:
        try:
            return cls(str(value))
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True)
class PaymentAttempt:
    """One payment of an order as payments reports it."""

    id: str
    state: PaymentState
    amount: Money
    refunded: int = 0

    @property
    def net(self) -> Money:
        """What the payment holds: charged less refunded (nothing unless it captured)."""
        captured = self.state in (PaymentState.SUCCEEDED, PaymentState.PARTIALLY_REFUNDED)
        held = self.amount.amount - self.refunded if captured else 0
        return Money(max(held, 0), self.amount.currency)

    @property
    def holds_money(self) -> bool:
        return self.net.amount > 0


class Settlement(StrEnum):
    PAY = "pay"  # a payment holding exactly the total, not yet decided: the order is PAID
    REFUSE = "refuse"  # a payment holding another amount, not yet decided: refuse it
    WAIT = "wait"  # a payment is in flight, unknown, or holds money being refunded
    NOTHING = "nothing"  # no payment in flight and none holding money: the order may expire


def settle(
    order: Order, attempts: Iterable[PaymentAttempt]
) -> tuple[Settlement, PaymentAttempt | None]:
    """What the sweep does with an unpaid order, given all its payment attempts; a payment
    is judged by what it holds (``net``: a partial refund counts), and is applied with that
    amount, by the same rule as its event."""
    attempts = list(attempts)
    undecided = [a for a in attempts if a.holds_money and not decided(order, a.id)]
    for attempt in undecided:
        if pays_for(order, attempt.net):
            return Settlement.PAY, attempt
    if undecided:
        return Settlement.REFUSE, undecided[0]
    for attempt in attempts:
        if attempt.holds_money or attempt.state in (PaymentState.PENDING, PaymentState.UNKNOWN):
            return Settlement.WAIT, attempt
    return Settlement.NOTHING, None
