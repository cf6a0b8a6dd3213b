"""What a caller sends and who may see what: the payment method of a charge (exactly one of a
card typed in now or a saved payment method), and who may read a payment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopkit.auth import Identity
from shopkit.errors import InvalidInput
from shopkit.processor import Card, validate_card
from subgraphs.payments.domain.model import Payment


@dataclass(frozen=True)
class CardInput:
    number: str
    exp_month: int
    exp_year: int
    cvc: str


@dataclass(frozen=True)
class Method:
    """Exactly one of a card typed in now or a saved payment method."""

    card: Card | None = None
    payment_method_id: str | None = None

    def params(self) -> dict[str, Any]:
        """The method as idempotency-key parameters (hashed with a secret key, never stored)."""
        if self.card is not None:
            card = self.card
            return {
                "card": [card.number, card.exp_month, card.exp_year, card.cvc],
                "paymentMethodId": None,
            }
        return {"card": None, "paymentMethodId": self.payment_method_id}


def parse_method(card: CardInput | None, payment_method_id: str | None) -> Method:
    if (card is None) == (payment_method_id is None):
        raise InvalidInput("Give exactly one of card or paymentMethodId.", field="card")
    if card is not None:
        return Method(card=validate_card(card.number, card.exp_month, card.exp_year, card.cvc))
    if not payment_method_id or not payment_method_id.strip():
        raise InvalidInput("The payment method id must not be empty.", field="paymentMethodId")
    return Method(payment_method_id=payment_method_id)


def may_read(identity: Identity, payment: Payment) -> bool:
    return identity.is_admin or identity.is_service or identity.account_id == payment.customer_id
