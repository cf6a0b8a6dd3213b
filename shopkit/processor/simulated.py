"""The embedded processor: behaves like a card processor's test mode.

Test cards: ``4242424242424242`` succeeds, ``4000000000000002`` is declined
(``card_declined``), ``4000000000009995`` fails for insufficient funds
(``insufficient_funds``); any other valid card succeeds. The outcome travels inside the token
(as processors' test tokens do), so no card number is kept anywhere. Requests are idempotent
by key within the process, like the real API.
"""

from __future__ import annotations

import secrets

from shopkit.processor.cards import Card, CardToken, card_brand
from shopkit.processor.interface import ChargeResult, ProcessorError, RefundResult

DECLINES = {
    "4000000000000002": ("card_declined", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
}


class SimulatedProcessor:
    def __init__(self) -> None:
        self.charges: dict[str, ChargeResult] = {}
        self.refunds: dict[str, RefundResult] = {}
        self.charge_calls = 0
        self.refund_calls = 0

    async def tokenize(self, card: Card) -> CardToken:
        outcome = DECLINES.get(card.number, ("ok", ""))[0]
        return CardToken(
            token=f"tok_sim_{outcome}_{secrets.token_hex(8)}",
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
        if outcome == "ok":
            result = ChargeResult(status="succeeded", charge_id=f"ch_sim_{secrets.token_hex(8)}")
        else:
            message = next((m for c, m in DECLINES.values() if c == outcome), "Declined.")
            result = ChargeResult(status="failed", failure_code=outcome, failure_message=message)
        self.charges[idempotency_key] = result
        return result

    async def refund(self, *, charge_id: str, amount: int, idempotency_key: str) -> RefundResult:
        if idempotency_key in self.refunds:
            return self.refunds[idempotency_key]
        self.refund_calls += 1
        result = RefundResult(refund_id=f"re_sim_{secrets.token_hex(8)}", amount=amount)
        self.refunds[idempotency_key] = result
        return result
