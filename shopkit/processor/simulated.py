"""The embedded processor: behaves like a card processor's test mode.

Test cards: ``4242424242424242`` succeeds, ``4000000000000002`` is declined
(``card_declined``), ``4000000000009995`` fails for insufficient funds
(``insufficient_funds``); any other valid card succeeds. The outcome travels inside the token
(as processors' test tokens do), so no card number is kept anywhere. Requests are idempotent
by key within the process, like the real API, and found again by key; a refund above what
remains of its charge is refused, as a real processor refuses it.
"""

from __future__ import annotations

import secrets

from shopkit.processor.cards import Card, CardToken, card_brand
from shopkit.processor.interface import (
    ChargeResult,
    ProcessorError,
    ProcessorRefused,
    RefundResult,
)

DECLINES = {
    "4000000000000002": ("card_declined", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
}


def test_card_outcome(number: str) -> str:
    """``ok`` or the decline code of one of the test cards."""
    return DECLINES.get(number, ("ok", ""))[0]


def decline_message(code: str) -> str:
    return next((m for c, m in DECLINES.values() if c == code), "Declined.")


class SimulatedProcessor:
    def __init__(self) -> None:
        self.charges: dict[str, ChargeResult] = {}  # by idempotency key
        self.refunds: dict[str, RefundResult] = {}  # by idempotency key
        self.captured: dict[str, int] = {}  # charge id -> amount captured
        self.refunded: dict[str, int] = {}  # charge id -> amount refunded
        self.charge_calls = 0
        self.refund_calls = 0

    async def tokenize(self, card: Card) -> CardToken:
        return CardToken(
            token=f"tok_sim_{test_card_outcome(card.number)}_{secrets.token_hex(8)}",
            brand=card_brand(card.number),
            last4=card.number[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )

    async def charge(
        self, *, source: str, amount: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        if idempotency_key in self.charges:
            return self.charges[idempotency_key]
        self.charge_calls += 1
        if not source.startswith("tok_sim_"):
            raise ProcessorError("unknown payment source")
        outcome = source.removeprefix("tok_sim_").rsplit("_", 1)[0]
        charge_id = f"ch_sim_{secrets.token_hex(8)}"
        if outcome == "ok":
            result = ChargeResult(status="succeeded", charge_id=charge_id)
            self.captured[charge_id] = amount
        else:
            result = ChargeResult(
                status="failed",
                charge_id=charge_id,
                failure_code=outcome,
                failure_message=decline_message(outcome),
            )
        self.charges[idempotency_key] = result
        return result

    async def refund(self, *, charge_id: str, amount: int, idempotency_key: str) -> RefundResult:
        if idempotency_key in self.refunds:
            return self.refunds[idempotency_key]
        self.refund_calls += 1
        if charge_id not in self.captured:
            raise ProcessorRefused(f"no captured charge {charge_id!r}")
        if amount <= 0 or self.refunded.get(charge_id, 0) + amount > self.captured[charge_id]:
            raise ProcessorRefused("the refund exceeds what remains of the charge")
        self.refunded[charge_id] = self.refunded.get(charge_id, 0) + amount
        result = RefundResult(refund_id=f"re_sim_{secrets.token_hex(8)}", amount=amount)
        self.refunds[idempotency_key] = result
        return result

    async def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        return self.charges.get(idempotency_key)

    async def find_refund(self, idempotency_key: str) -> RefundResult | None:
        return self.refunds.get(idempotency_key)
