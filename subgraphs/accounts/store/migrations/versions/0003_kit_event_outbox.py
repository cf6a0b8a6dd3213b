"""The outbox in the kit's layout (``shopkit.events.store.sql``), shared with payments: ``key``
becomes ``aggregate_id`` (up to 128 characters, as in payments), and ``headers`` is added (NULL
in the rows already there: none). Existing rows, pending or published, keep their data.

Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision = "0003"
down_revision = "0002"

# The outbox's NOT NULL key column before this revision, and as the kit names it.
KEY = ("key", sa.String(64))
AGGREGATE_ID = ("aggregate_id", sa.String(128))


def _rename(batch: BatchOperations, old: tuple[str, sa.String], new: tuple[str, sa.String]) -> None:
    """Renames and retypes the column ``old`` to ``new`` (the upgrade and, mirrored, the
    downgrade)."""
    (old_name, old_type), (new_name, new_type) = old, new
    batch.alter_column(
        old_name,
        new_column_name=new_name,
        type_=new_type,
        existing_type=old_type,
        existing_nullable=False,
    )


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        _rename(batch, KEY, AGGREGATE_ID)
        batch.add_column(sa.Column("headers", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("headers")
        _rename(batch, AGGREGATE_ID, KEY)
