"""Create the accounts tables: accounts, addresses, payment methods, login throttle, outbox.

Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None

WHEN = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("email_normalized", sa.String(254), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("email_normalized", name="uq_accounts_email_normalized"),
        **MYSQL,
    )
    op.create_table(
        "account_addresses",
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("line1", sa.String(200), nullable=False),
        sa.Column("line2", sa.String(200), nullable=True),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("postal_code", sa.String(16), nullable=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_addresses_account", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "kind", name="pk_account_addresses"),
        **MYSQL,
    )
    op.create_table(
        "payment_methods",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("token", sa.String(255), nullable=False),
        sa.Column("brand", sa.String(20), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_payment_methods_account", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payment_methods"),
        **MYSQL,
    )
    op.create_index("ix_payment_methods_account_id", "payment_methods", ["account_id"])
    op.create_table(
        "login_throttle",
        sa.Column("email_normalized", sa.String(254), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", WHEN, nullable=False),
        sa.Column("locked_until", WHEN, nullable=True),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("email_normalized", name="pk_login_throttle"),
        **MYSQL,
    )
    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("published_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
        **MYSQL,
    )
    op.create_index("ix_outbox_pending", "outbox", ["published_at", "seq"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("login_throttle")
    op.drop_index("ix_payment_methods_account_id", table_name="payment_methods")
    op.drop_table("payment_methods")
    op.drop_table("account_addresses")
    op.drop_table("accounts")
