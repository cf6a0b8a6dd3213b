"""The tables, declared with SQLModel (the outbox: the kit's layout). Alembic's revisions
create exactly these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shopkit.events.store.sql import outbox_table
from shopkit.sql import UTCDateTime


def _str(length: int, **kwargs: Any) -> Any:
    return Field(sa_column=Column(String(length), **kwargs))


def _when(**kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


class AccountsTable(SQLModel, registry=registry()):
    """Base of this service's tables: their own metadata, apart from other services' tables
    that may be imported into the same process."""


class AccountRow(AccountsTable, table=True):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("email_normalized", name="uq_accounts_email_normalized"),)

    id: str = _str(36, primary_key=True)
    email: str = _str(254, nullable=False)
    email_normalized: str = _str(254, nullable=False)
    name: str = _str(100, nullable=False)
    role: str = _str(16, nullable=False)
    password_hash: str = _str(255, nullable=False)
    version: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)


class AddressRow(AccountsTable, table=True):
    __tablename__ = "account_addresses"

    account_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
        )
    )
    kind: str = _str(16, primary_key=True)  # "shipping" | "billing"
    line1: str = _str(200, nullable=False)
    line2: str | None = _str(200, nullable=True)
    city: str = _str(100, nullable=False)
    region: str | None = _str(100, nullable=True)
    postal_code: str | None = _str(16, nullable=True)
    country: str = _str(2, nullable=False)


class PaymentMethodRow(AccountsTable, table=True):
    __tablename__ = "payment_methods"
    __table_args__ = (Index("ix_payment_methods_account_id", "account_id"),)

    id: str = _str(36, primary_key=True)
    account_id: str = Field(
        sa_column=Column(String(36), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    )
    token: str = _str(255, nullable=False)
    brand: str = _str(20, nullable=False)
    last4: str = _str(4, nullable=False)
    exp_month: int = Field(sa_column=Column(Integer, nullable=False))
    exp_year: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = _when(nullable=False)


class LoginThrottleRow(AccountsTable, table=True):
    """Login attempts per normalized email (known or not) and client address since that
    client's last success there."""

    __tablename__ = "login_throttle"

    email_normalized: str = _str(254, primary_key=True)
    client: str = _str(64, primary_key=True)
    attempts: int = Field(sa_column=Column(Integer, nullable=False))
    window_started_at: datetime = _when(nullable=False)
    locked_until: datetime | None = _when(nullable=True)
    lockouts: int = Field(sa_column=Column(Integer, nullable=False))


class LoginFailuresRow(AccountsTable, table=True):
    """Refused passwords per normalized email, from every client, in the current window."""

    __tablename__ = "login_failures"

    email_normalized: str = _str(254, primary_key=True)
    failures: int = Field(sa_column=Column(Integer, nullable=False))
    window_started_at: datetime = _when(nullable=False)


metadata = AccountsTable.metadata
# The event outbox: the kit's layout (shopkit/events/store/sql.py).
OUTBOX = outbox_table(metadata)
