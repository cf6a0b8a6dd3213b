"""Throttle logins per email and client: login_throttle keyed by (email, client), and
login_failures counting refused passwords per email from all clients.

The throttle's rows are short-lived counters, so the table is recreated rather than migrated:
an upgrade forgets at most the last window's counts.

Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"

WHEN = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def upgrade() -> None:
    op.drop_table("login_throttle")
    op.create_table(
        "login_throttle",
        sa.Column("email_normalized", sa.String(254), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", WHEN, nullable=False),
        sa.Column("locked_until", WHEN, nullable=True),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("email_normalized", "client", name="pk_login_throttle"),
        **MYSQL,
    )
    op.create_table(
        "login_failures",
        sa.Column("email_normalized", sa.String(254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("email_normalized", name="pk_login_failures"),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("login_throttle")
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
