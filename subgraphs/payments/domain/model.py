"""Payments and refunds as the domain sees them.

A payment is one attempt to charge an order's total. Its money lives in the ledger (one
``charge`` entry when the processor captured it, one ``refund`` entry per refund); ``captured``
and ``refunded`` are the ledger's sums, and the status derives from them and from the attempt's
outcome (pending, succeeded, failed). ``refunding`` is the sum of the refunds reserved but not
yet answered by the processor (``PendingRefund``): they count against what may still be
refunded, so two refunds racing each other can never promise more than the capture.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any

from shopkit.errors import Conflict, InvalidInput
from shopkit.money import Money
from subgraphs.payments.domain.idempotency import RetryableConflict


class PaymentStatus(Enum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


OUTCOME_PENDING = "pending"
OUTCOME_SUCCEEDED = "succeeded"
OUTCOME_FAILED = "failed"

# A charge the processor never received (found nowhere by its key, long after it was sent).
NEVER_RECEIVED_CODE = "processing_error"
NEVER_RECEIVED_MESSAGE = "The payment processor never received this charge; nothing was charged."

CLAIM_CHARGING = "charging"
CLAIM_SUCCEEDED = "succeeded"


@dataclass(frozen=True)
class ChargeClaim:
    """An order's claim: the one attempt that may charge it (``charging``) or that has
    (``succeeded``)."""

    order_id: str
    payment_id: str
    state: str


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    created_at: datetime


@dataclass(frozen=True)
class PendingRefund:
    """A refund reserved against a payment (committed before the processor is asked) and not
    yet answered. ``request_id`` is the idempotency record of the request that reserved it."""

    id: str
    payment_id: str
    amount: int
    currency: str
    charge_id: str
    request_id: str | None
    created_at: datetime

    @property
    def processor_key(self) -> str:
        return f"refund:{self.id}"


@dataclass(frozen=True)
class LedgerEntry:
    """One money movement: ``charge`` (captured) or ``refund``; never updated nor deleted."""

    id: str
    payment_id: str
    sequence: int
    kind: str
    amount: int
    currency: str
    processor_ref: str
    created_at: datetime


@dataclass(frozen=True)
class Payment:
    id: str
    order_id: str
    customer_id: str
    amount: int
    currency: str
    outcome: str
    source_token: str
    method_brand: str | None
    method_last4: str | None
    created_at: datetime
    updated_at: datetime
    captured: int = 0
    refunded: int = 0
    refunding: int = 0
    charge_id: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    refunds: tuple[Refund, ...] = field(default_factory=tuple)

    @property
    def status(self) -> PaymentStatus:
        if self.outcome == OUTCOME_FAILED:
            return PaymentStatus.FAILED
        if self.outcome == OUTCOME_PENDING:
            return PaymentStatus.PENDING
        if self.refunded == 0:
            return PaymentStatus.SUCCEEDED
        if self.refunded >= self.captured:
            return PaymentStatus.REFUNDED
        return PaymentStatus.PARTIALLY_REFUNDED

    def money(self, amount: int) -> Money:
        """``amount`` (this payment's amount, or one of its sums) in the payment's currency:
        an attempt charges and refunds in one currency only."""
        return Money(amount, self.currency)

    @property
    def refundable(self) -> int:
        """What may still be refunded: the capture less refunds done and refunds in flight."""
        return self.captured - self.refunded - self.refunding

    @property
    def holds_money(self) -> bool:
        """Captured money not refunded yet (a refund in flight included)."""
        return self.captured > self.refunded

    @property
    def processor_key(self) -> str:
        """The idempotency key of this attempt's charge at the processor."""
        return f"charge:{self.id}"

    def charged(self, charge_id: str, now: datetime) -> Payment:
        return replace(
            self,
            outcome=OUTCOME_SUCCEEDED,
            charge_id=charge_id,
            captured=self.amount,
            updated_at=now,
        )

    def declined(self, code: str, message: str, now: datetime) -> Payment:
        return replace(
            self,
            outcome=OUTCOME_FAILED,
            failure_code=code,
            failure_message=message,
            updated_at=now,
        )

    def refund_reserved(self, amount: int, now: datetime) -> Payment:
        return replace(self, refunding=self.refunding + amount, updated_at=now)

    def refund_done(self, refund: Refund, *, reserved: int, now: datetime) -> Payment:
        """A refund the processor made for a reservation of ``reserved``: the reservation
        leaves ``refunding``, what the processor refunded joins ``refunded``."""
        return replace(
            self,
            refunded=self.refunded + refund.amount,
            refunding=self.refunding - reserved,
            refunds=(*self.refunds, refund),
            updated_at=now,
        )

    def refund_dropped(self, amount: int, now: datetime) -> Payment:
        """A reserved refund the processor refused or never received."""
        return replace(self, refunding=self.refunding - amount, updated_at=now)

    def refund_amount(self, requested: int | None) -> int:
        """How much a refund of ``requested`` (None: all that remains) takes, or why not."""
        if self.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
            raise Conflict(
                f"Only a succeeded payment can be refunded; this one is {self.status.value}.",
                status=self.status.value,
            )
        if requested is None:
            if self.refundable <= 0:  # the rest is being refunded; that refund may yet fail
                raise RetryableConflict(
                    "A refund of all that remains is in progress; retry shortly.",
                    refunding=self.refunding,
                )
            return self.refundable
        if requested <= 0:
            raise InvalidInput("The refund amount must be positive.", field="amount")
        if requested > self.refundable:
            raise InvalidInput(
                "The refund exceeds what remains refundable on this payment.",
                field="amount",
                refundable=self.refundable,
            )
        return requested

    def to_dict(self) -> dict[str, Any]:
        raw = asdict(self)
        raw.pop("source_token")  # a snapshot is shown to callers; the token stays in the row
        raw["created_at"] = self.created_at.isoformat()
        raw["updated_at"] = self.updated_at.isoformat()
        raw["refunds"] = [
            {"id": r.id, "amount": r.amount, "created_at": r.created_at.isoformat()}
            for r in self.refunds
        ]
        return raw

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Payment:
        values = dict(raw)
        values["created_at"] = datetime.fromisoformat(raw["created_at"])
        values["updated_at"] = datetime.fromisoformat(raw["updated_at"])
        values["refunds"] = tuple(
            Refund(r["id"], r["amount"], datetime.fromisoformat(r["created_at"]))
            for r in raw["refunds"]
        )
        values["source_token"] = ""
        return cls(**values)
