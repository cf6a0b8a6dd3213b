"""Alembic environment for the accounts schema: ``shopkit.sql.run_migrations`` on its tables
(``alembic -x url=mysql+aiomysql://... upgrade head`` from the command line)."""

from shopkit.sql import run_migrations
from subgraphs.accounts.store.tables import metadata

run_migrations(metadata)
