"""The payment events: their types and ``data`` (see ``events/schemas/<type>.json``)."""

from __future__ import annotations

from typing import Any

from subgraphs.payments.domain.model import Payment, PaymentStatus, Refund

PAYMENT_SUCCEEDED = "payment.succeeded"
PAYMENT_FAILED = "payment.failed"
PAYMENT_REFUNDED = "payment.refunded"
PRODUCED = (PAYMENT_SUCCEEDED, PAYMENT_FAILED, PAYMENT_REFUNDED)
# Consumed from orders (topic shop.order): a cancelled order is refunded; a payment whose
# amount no longer matched the order's total is refunded and the order may be paid again.
ORDER_CANCELLED = "order.cancelled"
ORDER_PAYMENT_REFUSED = "order.payment_refused"


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def _base(payment: Payment) -> dict[str, Any]:
    return {
        "paymentId": payment.id,
        "orderId": payment.order_id,
        "customerId": payment.customer_id,
        "amount": _money(payment.amount, payment.currency),
        "status": payment.status.value,
    }


def charge_event(payment: Payment) -> tuple[str, dict[str, Any]]:
    data = _base(payment)
    if payment.status is PaymentStatus.FAILED:
        data["failureCode"] = payment.failure_code or "processing_error"
        data["failureMessage"] = payment.failure_message or ""
        return PAYMENT_FAILED, data
    return PAYMENT_SUCCEEDED, data


def refund_event(payment: Payment, refund: Refund) -> tuple[str, dict[str, Any]]:
    data = _base(payment)
    data["refundId"] = refund.id
    data["refundedAmount"] = _money(refund.amount, payment.currency)
    data["totalRefunded"] = _money(payment.refunded, payment.currency)
    return PAYMENT_REFUNDED, data
