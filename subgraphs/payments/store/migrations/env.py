"""Alembic environment for the payments database (async engines).

At start-up the app runs the migrations on a connection it already holds
(``config.attributes["connection"]``, see ``store.database.migrate``). From the command line
(``alembic -x url=... upgrade head`` with ``script_location`` pointing here) an async engine is
made from the URL.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from subgraphs.payments.store.tables import metadata

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(run_on)
        await connection.commit()
    await engine.dispose()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("pass the database URL: alembic -x url=mysql+aiomysql://... upgrade head")
    asyncio.run(run_from_url(url))


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run them against a database")
main()
