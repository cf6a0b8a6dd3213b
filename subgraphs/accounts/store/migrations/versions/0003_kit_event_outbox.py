"""The outbox in the kit's layout (``shopkit.events.store.sql``), shared with payments: ``key``
becomes ``aggregate_id`` (up to 128 characters, as in payments), and ``headers`` is added (NULL
in the rows already there: none). Existing rows, pending or published, keep their data.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "key",
            new_column_name="aggregate_id",
            type_=sa.String(128),
            existing_type=sa.String(64),
            existing_nullable=False,
        )
        batch.add_column(sa.Column("headers", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("headers")
        batch.alter_column(
            "aggregate_id",
            new_column_name="key",
            type_=sa.String(64),
            existing_type=sa.String(128),
            existing_nullable=False,
        )
