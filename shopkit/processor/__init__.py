"""The payment processor seen from the shop: tokenize a card, charge a token, refund a charge.

Two adapters implement ``PaymentProcessor``: ``SimulatedProcessor`` (the embedded default,
with the well-known test cards) and an HTTP adapter for a Stripe-like REST API. The accounts
service tokenizes saved cards through it and the payments service charges and refunds
through it; neither ever stores a card number or CVC.
"""

from shopkit.processor.cards import Card, CardToken, card_brand, luhn_valid, validate_card
from shopkit.processor.http import HttpProcessor
from shopkit.processor.interface import ChargeResult, PaymentProcessor, ProcessorError, RefundResult
from shopkit.processor.simulated import SimulatedProcessor

__all__ = [
    "Card",
    "CardToken",
    "ChargeResult",
    "HttpProcessor",
    "PaymentProcessor",
    "ProcessorError",
    "RefundResult",
    "SimulatedProcessor",
    "card_brand",
    "luhn_valid",
    "validate_card",
]
