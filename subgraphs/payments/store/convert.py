"""Rows to domain objects and back.

A row's columns carry the names of the domain object's fields (``idem_key`` is the one
exception: ``key`` is a reserved word in SQL), so a conversion copies the fields by name and
spells out only what differs.
"""

from __future__ import annotations

from typing import Any

from shopkit.sql import from_row
from subgraphs.payments.domain.idempotency import IdempotencyRecord
from subgraphs.payments.domain.model import Payment, PendingRefund, Refund
from subgraphs.payments.store.tables import (
    IdempotencyRow,
    LedgerRow,
    PaymentRow,
    RefundReservationRow,
)

# The columns of a payment row that change after it is written.
MUTABLE_COLUMNS = (
    "outcome",
    "captured",
    "refunded",
    "refunding",
    "charge_id",
    "failure_code",
    "failure_message",
    "updated_at",
)


def payment_from_row(row: PaymentRow, refunds: list[LedgerRow]) -> Payment:
    return from_row(
        Payment,
        row,
        refunds=tuple(
            from_row(Refund, r)
            for r in sorted(refunds, key=lambda r: r.sequence)
            if r.kind == "refund"
        ),
    )


def payment_values(payment: Payment) -> dict[str, Any]:
    """The mutable columns of a payment row."""
    return {name: getattr(payment, name) for name in MUTABLE_COLUMNS}


def record_from_row(row: IdempotencyRow) -> IdempotencyRecord:
    return from_row(IdempotencyRecord, row, key=row.idem_key)


def pending_refund_from_row(row: RefundReservationRow) -> PendingRefund:
    return from_row(PendingRefund, row)
