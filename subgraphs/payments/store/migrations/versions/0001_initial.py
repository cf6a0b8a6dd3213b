"""The payments schema: payments, the append-only ledger, per-order charge claims,
idempotency keys, the outbox and the inbox.

Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subgraphs.payments.store.tables import key_type, timestamp_type

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("order_id", sa.String(64), nullable=False, index=True),
        sa.Column("customer_id", sa.String(64), nullable=False, index=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("captured", sa.BigInteger, nullable=False),
        sa.Column("refunded", sa.BigInteger, nullable=False),
        sa.Column("source_token", sa.String(255), nullable=False),
        sa.Column("method_brand", sa.String(32)),
        sa.Column("method_last4", sa.String(4)),
        sa.Column("charge_id", sa.String(255)),
        sa.Column("failure_code", sa.String(64)),
        sa.Column("failure_message", sa.String(500)),
        sa.Column("created_at", timestamp_type(), nullable=False),
        sa.Column("updated_at", timestamp_type(), nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_payments_amount_positive"),
        sa.CheckConstraint(
            "captured >= 0 AND refunded >= 0 AND refunded <= captured AND captured <= amount",
            name="ck_payments_refunds_within_capture",
        ),
        sa.CheckConstraint(
            "outcome IN ('pending', 'succeeded', 'failed')", name="ck_payments_outcome"
        ),
    )
    op.create_table(
        "payment_ledger",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("payment_id", sa.String(36), sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("processor_ref", sa.String(255), nullable=False),
        sa.Column("created_at", timestamp_type(), nullable=False),
        sa.UniqueConstraint("payment_id", "sequence", name="uq_ledger_payment_sequence"),
        sa.CheckConstraint("amount > 0", name="ck_ledger_amount_positive"),
        sa.CheckConstraint("kind IN ('charge', 'refund')", name="ck_ledger_kind"),
    )
    op.create_table(
        "order_charge_claims",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("payment_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", timestamp_type(), nullable=False),
        sa.Column("updated_at", timestamp_type(), nullable=False),
        sa.CheckConstraint("state IN ('charging', 'succeeded')", name="ck_claims_state"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("caller_id", sa.String(128), nullable=False),
        sa.Column("idem_key", key_type(), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("locked_until", timestamp_type()),
        sa.Column("payment_id", sa.String(36)),
        sa.Column("response", sa.Text),
        sa.Column("created_at", timestamp_type(), nullable=False),
        sa.Column("updated_at", timestamp_type(), nullable=False),
        sa.Column("expires_at", timestamp_type(), nullable=False, index=True),
        sa.UniqueConstraint("caller_id", "idem_key", name="uq_idempotency_caller_key"),
        sa.CheckConstraint("status IN ('started', 'completed')", name="ck_idempotency_status"),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("msg_key", sa.String(128), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("created_at", timestamp_type(), nullable=False),
        sa.Column("published_at", timestamp_type(), index=True),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("created_at", timestamp_type(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "inbox",
        "outbox",
        "idempotency_keys",
        "order_charge_claims",
        "payment_ledger",
        "payments",
    ):
        op.drop_table(table)
