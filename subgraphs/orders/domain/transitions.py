"""The order state machine.

Customer and admin commands that the current status does not allow are refused with a
``Conflict`` naming that status. Payment events that arrive for an order in a status they do
not apply to change nothing (``None``): a payment that succeeds for a cancelled order stays
cancelled (payments refunds it when it sees ``order.cancelled``), and a refund moves only a
cancelled order to REFUNDED.

A succeeded payment moves the order to PAID only if it charged exactly the order's total
(``domain/payments.py``); otherwise the order keeps its status (PENDING_PAYMENT or
PAYMENT_FAILED, with a history entry saying why) and announces ``order.payment_refused``, on
which payments refunds that payment.

    PENDING_PAYMENT --payment.succeeded (amount = total)--> PAID --complete--> COMPLETED
    PENDING_PAYMENT | PAYMENT_FAILED --payment.succeeded (amount != total)--> unchanged, refused
    PENDING_PAYMENT --payment.failed--> PAYMENT_FAILED --payment.succeeded--> PAID
    PENDING_PAYMENT | PAYMENT_FAILED --update--> PENDING_PAYMENT
    PENDING_PAYMENT | PAYMENT_FAILED | PAID --cancel / expire--> CANCELLED
    CANCELLED --payment.refunded--> REFUNDED
"""

from __future__ import annotations

from enum import StrEnum

from shopkit.errors import Conflict

from .model import OrderStatus


class Command(StrEnum):
    UPDATE = "update"
    CANCEL = "cancel"
    COMPLETE = "complete"
    EXPIRE = "expire"


class PaymentOutcome(StrEnum):
    SUCCEEDED = "payment.succeeded"
    FAILED = "payment.failed"
    REFUNDED = "payment.refunded"


COMMANDS: dict[Command, tuple[frozenset[OrderStatus], OrderStatus, str]] = {
    Command.UPDATE: (
        frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_FAILED}),
        OrderStatus.PENDING_PAYMENT,
        "updated",
    ),
    Command.CANCEL: (
        frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_FAILED, OrderStatus.PAID}),
        OrderStatus.CANCELLED,
        "cancelled",
    ),
    Command.COMPLETE: (frozenset({OrderStatus.PAID}), OrderStatus.COMPLETED, "completed"),
    Command.EXPIRE: (
        frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_FAILED}),
        OrderStatus.CANCELLED,
        "expired",
    ),
}

PAYMENTS: dict[PaymentOutcome, tuple[frozenset[OrderStatus], OrderStatus]] = {
    PaymentOutcome.SUCCEEDED: (
        frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_FAILED}),
        OrderStatus.PAID,
    ),
    PaymentOutcome.FAILED: (frozenset({OrderStatus.PENDING_PAYMENT}), OrderStatus.PAYMENT_FAILED),
    PaymentOutcome.REFUNDED: (frozenset({OrderStatus.CANCELLED}), OrderStatus.REFUNDED),
}


def _names(statuses: frozenset[OrderStatus]) -> str:
    ordered = [s.value for s in OrderStatus if s in statuses]
    return ordered[0] if len(ordered) == 1 else f"{', '.join(ordered[:-1])} or {ordered[-1]}"


def next_status(order_id: str, current: OrderStatus, command: Command) -> OrderStatus:
    """The status ``command`` leads to, or ``Conflict`` naming the current status."""
    sources, target, verb = COMMANDS[command]
    if current not in sources:
        raise Conflict(
            f"Order {order_id} is {current.value}; only {_names(sources)} orders can be {verb}.",
            status=current.value,
        )
    return target


def after_payment(current: OrderStatus, outcome: PaymentOutcome) -> OrderStatus | None:
    """The status a payment event leads to, or None when it changes nothing."""
    sources, target = PAYMENTS[outcome]
    return target if current in sources else None
