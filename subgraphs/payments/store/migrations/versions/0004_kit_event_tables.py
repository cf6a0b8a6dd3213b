"""The outbox and the inbox in the kit's layout (``shopkit.events.store.sql``), shared with
accounts: ``id``/``msg_key``/``value`` become ``event_id``/``aggregate_id``/``payload``, the
outbox gains ``headers`` (NULL in the rows already there: none) and its index for the relay and
the purge, ``(published_at, seq)``; the inbox gains an index on ``created_at`` for the purge.
Existing rows, pending or published, keep their data.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# SQLite rebuilds the table: its one UNIQUE constraint, unnamed by 0001, comes back with the
# name MySQL gets below (the constraint follows its column's new name).
NAMING = {"uq": "uq_%(table_name)s_event_id"}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("outbox", naming_convention=NAMING) as batch:
        batch.drop_index("ix_outbox_published_at")
        batch.alter_column(
            "id", new_column_name="event_id", existing_type=sa.String(36), existing_nullable=False
        )
        batch.alter_column(
            "msg_key",
            new_column_name="aggregate_id",
            existing_type=sa.String(128),
            existing_nullable=False,
        )
        batch.alter_column(
            "value", new_column_name="payload", existing_type=sa.Text, existing_nullable=False
        )
        batch.add_column(sa.Column("headers", sa.Text, nullable=True))
        batch.create_index("ix_outbox_pending", ["published_at", "seq"])
    if not sqlite:  # MySQL named the unique index of 0001 after its column
        op.execute("ALTER TABLE outbox RENAME INDEX id TO uq_outbox_event_id")
    op.create_index("ix_inbox_created_at", "inbox", ["created_at"])


def downgrade() -> None:
    """The old names back (on SQLite the UNIQUE constraint keeps its new name)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("ix_inbox_created_at", table_name="inbox")
    if not sqlite:
        op.execute("ALTER TABLE outbox RENAME INDEX uq_outbox_event_id TO id")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_pending")
        batch.drop_column("headers")
        batch.alter_column(
            "payload", new_column_name="value", existing_type=sa.Text, existing_nullable=False
        )
        batch.alter_column(
            "aggregate_id",
            new_column_name="msg_key",
            existing_type=sa.String(128),
            existing_nullable=False,
        )
        batch.alter_column(
            "event_id", new_column_name="id", existing_type=sa.String(36), existing_nullable=False
        )
        batch.create_index("ix_outbox_published_at", ["published_at"])
