"""The refund-reservation migration (0003) on a database that already holds payments, on
MariaDB and SQLite: existing rows get ``refunding = 0`` and the new CHECK guards them."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from shopkit.sql import create_engine, migrate
from subgraphs.payments.store.database import MIGRATIONS


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


@pytest.mark.parametrize("engine_name", ["sqlite", "mariadb"])
async def test_reservations_migrate_onto_existing_payments(
    engine_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if engine_name == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'payments.db'}"
    else:
        url = request.getfixturevalue("mysql_url")
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_upgrade_to, "0002")
            await connection.execute(
                sa.text(
                    "INSERT INTO payments (id, order_id, customer_id, amount, currency, outcome,"
                    " captured, refunded, source_token, created_at, updated_at) VALUES"
                    " ('p1', 'o1', 'c1', 1000, 'EUR', 'succeeded', 1000, 400, 'tok',"
                    " '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
                )
            )
            await connection.execute(
                sa.text(
                    "INSERT INTO payment_ledger VALUES"
                    " ('l1', 'p1', 1, 'charge', 1000, 'EUR', 'ch', '2025-01-01 00:00:00')"
                )
            )
            await connection.commit()

        await migrate(engine, MIGRATIONS)

        async with engine.connect() as connection:
            rows = await connection.execute(sa.text("SELECT refunded, refunding FROM payments"))
            assert [tuple(r) for r in rows] == [(400, 0)]
            await connection.execute(sa.text("UPDATE payments SET refunding = 600"))
            with pytest.raises((IntegrityError, OperationalError)):
                await connection.execute(sa.text("UPDATE payments SET refunding = 601"))
            await connection.rollback()
    finally:
        await engine.dispose()
