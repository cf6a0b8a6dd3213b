"""The payment processor seen from the shop: tokenize a card, charge a token, refund a charge,
and find a charge or refund again by its idempotency key.

Two adapters implement ``PaymentProcessor``: ``SimulatedProcessor`` (the in-process test mode,
with the well-known test cards) and an HTTP adapter for a Stripe-like REST API. The accounts
service tokenizes saved cards through it and the payments service charges and refunds
through it; both build it from the same ``SHOP_PROCESSOR*`` settings (``build_processor``), and
neither ever stores a card number or CVC.
"""

from shopkit.processor.cards import Card, CardToken, card_brand, luhn_valid, validate_card
from shopkit.processor.http_processor import HttpProcessor
from shopkit.processor.interface import (
    ChargeResult,
    PaymentProcessor,
    ProcessorError,
    ProcessorRefused,
    RefundResult,
)
from shopkit.processor.settings import ProcessorSettings, build_processor
from shopkit.processor.simulated import SimulatedProcessor

__all__ = [
    "Card",
    "CardToken",
    "ChargeResult",
    "HttpProcessor",
    "PaymentProcessor",
    "ProcessorError",
    "ProcessorRefused",
    "ProcessorSettings",
    "RefundResult",
    "SimulatedProcessor",
    "build_processor",
    "card_brand",
    "luhn_valid",
    "validate_card",
]
