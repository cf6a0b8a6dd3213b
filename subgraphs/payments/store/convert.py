"""Rows to domain objects and back."""

from __future__ import annotations

from typing import Any

from subgraphs.payments.domain.idempotency import IdempotencyRecord
from subgraphs.payments.domain.model import Payment, PendingRefund, Refund
from subgraphs.payments.store.tables import (
    IdempotencyRow,
    LedgerRow,
    PaymentRow,
    RefundReservationRow,
)


def payment_from_row(row: PaymentRow, refunds: list[LedgerRow]) -> Payment:
    return Payment(
        id=row.id,
        order_id=row.order_id,
        customer_id=row.customer_id,
        amount=row.amount,
        currency=row.currency,
        outcome=row.outcome,
        source_token=row.source_token,
        method_brand=row.method_brand,
        method_last4=row.method_last4,
        created_at=row.created_at,
        updated_at=row.updated_at,
        captured=row.captured,
        refunded=row.refunded,
        refunding=row.refunding,
        charge_id=row.charge_id,
        failure_code=row.failure_code,
        failure_message=row.failure_message,
        refunds=tuple(
            Refund(id=r.id, amount=r.amount, created_at=r.created_at)
            for r in sorted(refunds, key=lambda r: r.sequence)
            if r.kind == "refund"
        ),
    )


def payment_values(payment: Payment) -> dict[str, Any]:
    """The mutable columns of a payment row."""
    return {
        "outcome": payment.outcome,
        "captured": payment.captured,
        "refunded": payment.refunded,
        "refunding": payment.refunding,
        "charge_id": payment.charge_id,
        "failure_code": payment.failure_code,
        "failure_message": payment.failure_message,
        "updated_at": payment.updated_at,
    }


def new_payment_row(payment: Payment) -> PaymentRow:
    return PaymentRow(
        id=payment.id,
        order_id=payment.order_id,
        customer_id=payment.customer_id,
        amount=payment.amount,
        currency=payment.currency,
        source_token=payment.source_token,
        method_brand=payment.method_brand,
        method_last4=payment.method_last4,
        created_at=payment.created_at,
        **payment_values(payment),
    )


def record_from_row(row: IdempotencyRow) -> IdempotencyRecord:
    return IdempotencyRecord(
        id=row.id,
        caller_id=row.caller_id,
        key=row.idem_key,
        operation=row.operation,
        request_hash=row.request_hash,
        status=row.status,
        expires_at=row.expires_at,
        payment_id=row.payment_id,
        response=row.response,
    )


def pending_refund_from_row(row: RefundReservationRow) -> PendingRefund:
    return PendingRefund(
        id=row.id,
        payment_id=row.payment_id,
        amount=row.amount,
        currency=row.currency,
        charge_id=row.charge_id,
        request_id=row.request_id,
        created_at=row.created_at,
    )
