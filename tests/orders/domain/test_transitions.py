"""The order state machine (domain/transitions.py): which command leads where, what a
refusal names, and which payment outcomes move which orders."""

from __future__ import annotations

import pytest

from shopkit.errors import Conflict
from subgraphs.orders.domain.model import OrderStatus
from subgraphs.orders.domain.transitions import Command, PaymentOutcome, after_payment, next_status

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
