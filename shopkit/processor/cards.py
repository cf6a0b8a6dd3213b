"""Card numbers: validation (Luhn, expiry, CVC) and brand. Standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shopkit.errors import InvalidInput


@dataclass(frozen=True)
class Card:
    number: str
    exp_month: int
    exp_year: int
    cvc: str

    def __repr__(self) -> str:  # never let a card number reach a log through repr()
        return f"Card(last4={self.number[-4:]!r}, exp={self.exp_month:02d}/{self.exp_year})"

    __str__ = __repr__


@dataclass(frozen=True)
class CardToken:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for position, character in enumerate(reversed(number)):
        digit = int(character)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith("6011") or number.startswith("65"):
        return "discover"
    return "unknown"


def validate_card(
    number: str, exp_month: int, exp_year: int, cvc: str, today: date | None = None
) -> Card:
    """Returns a normalized ``Card`` or raises ``InvalidInput`` naming what is wrong."""
    digits = number.replace(" ", "").replace("-", "")
    if not luhn_valid(digits):
        raise InvalidInput("The card number is not valid.", field="number")
    if not 1 <= exp_month <= 12:
        raise InvalidInput("The expiry month must be between 1 and 12.", field="expMonth")
    today = today or date.today()
    if exp_year < 100:
        exp_year += 2000
    if (exp_year, exp_month) < (today.year, today.month) or exp_year > today.year + 25:
        raise InvalidInput("The card has expired.", field="expYear")
    expected = 4 if card_brand(digits) == "amex" else 3
    if not cvc.isdigit() or len(cvc) != expected:
        raise InvalidInput(f"The CVC must be {expected} digits.", field="cvc")
    return Card(number=digits, exp_month=exp_month, exp_year=exp_year, cvc=cvc)
