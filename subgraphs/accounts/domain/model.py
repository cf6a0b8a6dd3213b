"""Accounts, their addresses and saved payment methods, as plain values.

A saved payment method holds only the processor's token, the brand, the last four digits and
the expiry: the card number and CVC never reach this model.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shopkit.addresses import Address


class Role(enum.StrEnum):
    CUSTOMER = "CUSTOMER"
    ADMIN = "ADMIN"


@dataclass(frozen=True)
class PaymentMethod:
    id: str
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    created_at: datetime

    def __repr__(self) -> str:  # the token is a credential for charging: keep it out of logs
        return f"PaymentMethod(id={self.id!r}, brand={self.brand!r}, last4={self.last4!r})"


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    name: str
    role: Role
    password_hash: str
    created_at: datetime
    updated_at: datetime
    shipping_address: Address | None = None
    billing_address: Address | None = None
    payment_methods: tuple[PaymentMethod, ...] = field(default_factory=tuple)
    version: int = 1

    @property
    def email_normalized(self) -> str:
        return self.email.lower()

    def changed(self, **changes: Any) -> Account:
        return replace(self, **changes)

    def __repr__(self) -> str:  # never let the password hash reach a log through repr()
        return f"Account(id={self.id!r}, role={self.role.value!r})"

    __str__ = __repr__
