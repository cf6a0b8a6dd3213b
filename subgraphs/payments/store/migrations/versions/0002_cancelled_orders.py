"""Cancelled orders: what the ``order.cancelled`` consumer saw, for the charge path to consult.

Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subgraphs.payments.store.tables import timestamp_type

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "cancelled_orders",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("created_at", timestamp_type(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cancelled_orders")
