"""What the shop needs from a payment processor.

Every charge and refund carries an idempotency key chosen by the shop; the processor does the
work once per key and answers a repeat with the first answer. The same key finds the work
again (``find_charge``, ``find_refund``): that is how an outcome the shop never learnt (a
timeout, a crash between the processor's answer and the shop's commit) is resolved later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from shopkit.processor.cards import Card, CardToken


class ProcessorError(Exception):
    """The processor could not be reached or answered nonsense; the outcome is unknown and
    the same request may be retried with the same idempotency key."""


class ProcessorRefused(ProcessorError):
    """The processor answered and refused the request (an invalid request, a refund above what
    remains of the charge): nothing happened at the processor."""


@dataclass(frozen=True)
class ChargeResult:
    status: Literal["succeeded", "failed"]
    charge_id: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    amount: int


class PaymentProcessor(Protocol):
    async def tokenize(self, card: Card) -> CardToken: ...

    async def charge(
        self, *, source: str, amount: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """``source`` is a token from ``tokenize``. Declines are results, not exceptions."""

    async def refund(
        self, *, charge_id: str, amount: int, idempotency_key: str
    ) -> RefundResult: ...

    async def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        """The charge made with this key (succeeded or declined), or None if the processor
        never received it. Raises ``ProcessorError`` when it cannot tell."""

    async def find_refund(self, idempotency_key: str) -> RefundResult | None:
        """The refund made with this key, or None if the processor never received it."""
