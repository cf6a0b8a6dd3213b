"""Refunds reserved before the processor is asked: ``refund_reservations`` and
``payments.refunding``, with CHECK (refunded + refunding <= captured).

Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subgraphs.payments.store.tables import timestamp_type

revision = "0003"
down_revision = "0002"

RESERVED_WITHIN_CAPTURE = "refunding >= 0 AND refunded + refunding <= captured"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN with its CHECK: a batch table rebuild would drop ``payments``,
        # which the ledger's foreign key forbids while foreign keys are on.
        op.execute(
            "ALTER TABLE payments ADD COLUMN refunding BIGINT NOT NULL DEFAULT 0 "
            f"CONSTRAINT ck_payments_reserved_within_capture CHECK ({RESERVED_WITHIN_CAPTURE})"
        )
    else:
        op.add_column(
            "payments",
            sa.Column("refunding", sa.BigInteger, nullable=False, server_default="0"),
        )
        op.create_check_constraint(
            "ck_payments_reserved_within_capture", "payments", RESERVED_WITHIN_CAPTURE
        )
    op.create_table(
        "refund_reservations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "payment_id", sa.String(36), sa.ForeignKey("payments.id"), nullable=False, index=True
        ),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charge_id", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(36), unique=True),
        sa.Column("created_at", timestamp_type(), nullable=False, index=True),
        sa.CheckConstraint("amount > 0", name="ck_reservations_amount_positive"),
    )


def downgrade() -> None:
    op.drop_table("refund_reservations")
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite cannot drop a column its CHECK uses; at 0 it is harmless to 0002's code
    op.drop_constraint("ck_payments_reserved_within_capture", "payments", type_="check")
    op.drop_column("payments", "refunding")
