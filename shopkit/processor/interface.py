"""What the shop needs from a payment processor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from shopkit.processor.cards import Card, CardToken


class ProcessorError(Exception):
    """The processor could not be reached or answered nonsense; the outcome is unknown and
    the same request may be retried with the same idempotency key."""


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
