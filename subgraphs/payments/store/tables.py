"""The payments tables, declared with SQLModel on their own ``MetaData``.

Money is an integer number of minor units (cents). The DDL is created by the Alembic migrations
in ``migrations/``; these classes only describe it for queries.

How the database itself keeps money right:

* ``payment_ledger`` is append-only: one ``charge`` row when the processor captured a payment,
  one ``refund`` row per refund, numbered per payment with UNIQUE (payment_id, sequence).
* ``payments.captured`` / ``payments.refunded`` are the ledger's sums, maintained in the same
  transaction as each ledger row, with the payment row locked (``store/database.py:
  lock_payment``: ``SELECT ... FOR UPDATE`` on MySQL, ``BEGIN IMMEDIATE`` on SQLite, which
  ignores FOR UPDATE), and guarded by CHECK (refunded <= captured AND captured <= amount).
* ``refund_reservations``: a refund is reserved (a row here, its amount added to
  ``payments.refunding``) and committed *before* the processor is asked, and the processor is
  asked with no transaction open; the answer then moves the amount from ``refunding`` to
  ``refunded`` with its ledger row. CHECK (refunded + refunding <= captured) makes the database
  itself refuse a reservation above what remains, even from a writer that forgets the lock.
  Why not hold the lock across the processor call, as this table's first design did: a lock
  held over the network stalls every other writer of the row for as long as the processor
  takes, and SQLite has no row lock to hold.
* ``order_charge_claims``: one row per order (primary key order_id), taken before charging and
  kept once a charge succeeded, so at most one charge per order is ever in flight or captured
  (released when orders refuses a payment whose amount no longer matches the order).
* ``idempotency_keys``: UNIQUE (caller_id, idem_key) decides which of concurrent requests with
  the same key does the work.
* ``cancelled_orders``: one row per order the ``order.cancelled`` consumer saw (primary key
  order_id), the local record a finished charge consults before refunding.
* ``outbox`` and ``inbox``: the kit's event tables (``shopkit.events.store.sql``).
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlmodel import Field, SQLModel

from shopkit.events.store.sql import inbox_table, outbox_table
from shopkit.sql import UTCDateTime

metadata = sa.MetaData()


def timestamp_type() -> sa.types.TypeEngine[datetime]:
    """The migrations' column type of timestamps (the DDL of ``UTCDateTime``)."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def key_type() -> sa.types.TypeEngine[str]:
    """Case- and accent-sensitive, as idempotency keys are compared byte for byte."""
    return sa.String(255).with_variant(
        mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def _ts(nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


def columns(model: type[SQLModel]) -> sa.ColumnCollection[str, sa.Column[Any]]:
    """A table's columns, for SQL expressions that type-check (``Model.field`` is a str)."""
    # SQLAlchemy sets __table__ on a table=True model when its class is made; SQLModel's base
    # class does not declare it.
    return model.__table__.c  # type: ignore[attr-defined]


class _Base(SQLModel):
    metadata = metadata


class PaymentRow(_Base, table=True):
    __tablename__ = "payments"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="ck_payments_amount_positive"),
        sa.CheckConstraint(
            "captured >= 0 AND refunded >= 0 AND refunded <= captured AND captured <= amount",
            name="ck_payments_refunds_within_capture",
        ),
        sa.CheckConstraint(
            "outcome IN ('pending', 'succeeded', 'failed')", name="ck_payments_outcome"
        ),
        sa.CheckConstraint(
            "refunding >= 0 AND refunded + refunding <= captured",
            name="ck_payments_reserved_within_capture",
        ),
    )

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    order_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    customer_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    outcome: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    captured: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    refunded: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    refunding: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0")
    )
    source_token: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    method_brand: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
    method_last4: str | None = Field(default=None, sa_column=sa.Column(sa.String(4)))
    charge_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    failure_code: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    failure_message: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class LedgerRow(_Base, table=True):
    __tablename__ = "payment_ledger"
    __table_args__ = (
        sa.UniqueConstraint("payment_id", "sequence", name="uq_ledger_payment_sequence"),
        sa.CheckConstraint("amount > 0", name="ck_ledger_amount_positive"),
        sa.CheckConstraint("kind IN ('charge', 'refund')", name="ck_ledger_kind"),
    )

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    payment_id: str = Field(
        sa_column=sa.Column(sa.String(36), sa.ForeignKey("payments.id"), nullable=False)
    )
    sequence: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(8), nullable=False))
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    processor_ref: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    created_at: datetime = Field(sa_column=_ts())


class RefundReservationRow(_Base, table=True):
    """Refunds reserved and not yet answered by the processor; the processor's idempotency key
    is ``refund:<id>``, and the ledger's refund row takes the same id once it is answered."""

    __tablename__ = "refund_reservations"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="ck_reservations_amount_positive"),)

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    payment_id: str = Field(
        sa_column=sa.Column(sa.String(36), sa.ForeignKey("payments.id"), nullable=False, index=True)
    )
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    charge_id: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    request_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(36), unique=True))
    created_at: datetime = Field(sa_column=_ts(index=True))


class ChargeClaimRow(_Base, table=True):
    __tablename__ = "order_charge_claims"
    __table_args__ = (
        sa.CheckConstraint("state IN ('charging', 'succeeded')", name="ck_claims_state"),
    )

    order_id: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    payment_id: str = Field(sa_column=sa.Column(sa.String(36), nullable=False))
    state: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class IdempotencyRow(_Base, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        sa.UniqueConstraint("caller_id", "idem_key", name="uq_idempotency_caller_key"),
        sa.CheckConstraint("status IN ('started', 'completed')", name="ck_idempotency_status"),
    )

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    caller_id: str = Field(sa_column=sa.Column(sa.String(128), nullable=False))
    idem_key: str = Field(sa_column=sa.Column(key_type(), nullable=False))
    operation: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    request_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    locked_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    payment_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(36)))
    response: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts(index=True))


class CancelledOrderRow(_Base, table=True):
    """Orders that ``order.cancelled`` said were cancelled: the charge path reads this after a
    successful charge, so a cancellation seen while the charge was in flight is not lost even
    when the orders service cannot be asked."""

    __tablename__ = "cancelled_orders"

    order_id: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    event_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    created_at: datetime = Field(sa_column=_ts())


# The event outbox and the consumers' inbox: the kit's layout (shopkit/events/store/sql.py).
OUTBOX = outbox_table(metadata)
INBOX = inbox_table(metadata)
