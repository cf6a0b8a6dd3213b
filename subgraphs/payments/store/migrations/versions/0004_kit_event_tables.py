"""The outbox and the inbox in the kit's layout (``shopkit.events.store.sql``), shared with
accounts: ``id``/``msg_key``/``value`` become ``event_id``/``aggregate_id``/``payload``, the
outbox gains ``headers`` (NULL in the rows already there: none) and its index for the relay and
the purge, ``(published_at, seq)``; the inbox gains an index on ``created_at`` for the purge.
Existing rows, pending or published, keep their data.

Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

# SQLite rebuilds the table: its one UNIQUE constraint, unnamed by 0001, comes back with the
# name MySQL gets below (the constraint follows its column's new name).
NAMING = {"uq": "uq_%(table_name)s_event_id"}

# The outbox's columns renamed to the kit's names (old name, kit name, type; all NOT NULL),
# in the order the upgrade renames them; the downgrade renames them back in reverse.
RENAMES = (
    ("id", "event_id", sa.String(36)),
    ("msg_key", "aggregate_id", sa.String(128)),
    ("value", "payload", sa.Text),
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("outbox", naming_convention=NAMING) as batch:
        batch.drop_index("ix_outbox_published_at")
        for old, new, type_ in RENAMES:
            batch.alter_column(
                old, new_column_name=new, existing_type=type_, existing_nullable=False
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
        for old, new, type_ in reversed(RENAMES):
            batch.alter_column(
                new, new_column_name=old, existing_type=type_, existing_nullable=False
            )
        batch.create_index("ix_outbox_published_at", ["published_at"])
