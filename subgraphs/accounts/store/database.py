"""The async engine (MySQL through aiomysql, or the embedded SQLite file through aiosqlite)
and the Alembic upgrade run at start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = "accounts_schema_migration"
MYSQL_DEADLOCK = 1213
MYSQL_LOCK_WAIT_TIMEOUT = 1205


def create_engine(url: str) -> AsyncEngine:
    """Statement parameters are never logged (they hold password hashes and tokens). MySQL
    runs at READ COMMITTED: a lookup or delete by key that finds nothing takes no gap lock,
    which under REPEATABLE READ made inserts of unrelated keys deadlock."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, hide_parameters=True, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_recycle=3600,
        pool_size=10,
        isolation_level="READ COMMITTED",
    )


def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Brings the schema to the newest revision. On MySQL a named lock keeps two processes
    starting together from migrating at once."""
    async with engine.connect() as connection:
        mysql = connection.dialect.name == "mysql"
        if mysql:
            await connection.execute(text("SELECT GET_LOCK(:n, 60)"), {"n": MIGRATION_LOCK})
        try:
            await connection.run_sync(_upgrade)
            await connection.commit()
        finally:
            if mysql:
                await connection.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": MIGRATION_LOCK})


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def is_retryable(error: DBAPIError) -> bool:
    """A deadlock or lock-wait timeout (the transaction was rolled back and may be re-run), or
    SQLite's busy database."""
    args = getattr(error.orig, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    return code in (MYSQL_DEADLOCK, MYSQL_LOCK_WAIT_TIMEOUT) or "database is locked" in str(
        error.orig
    )
