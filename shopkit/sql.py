"""The relational database for the services that keep one (MySQL through aiomysql, or an
embedded SQLite file through aiosqlite): the async engine, session factories, the Alembic
upgrade run at start-up (and the body of each service's Alembic ``env.py``), the readiness
ping, how to read a driver error, the column type of UTC timestamps (``UTCDateTime``), and
the copy between a table row and a domain dataclass whose fields the row's columns name
(``from_row``, ``row_of``).
The only module of the kit that imports SQLAlchemy.

A service names its migrations directory and its table metadata; everything else is here::

    engine = create_engine(settings.database_url)
    await migrate(engine, MIGRATIONS)
    factory = sessions(engine)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as PlainAsyncSession
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shopkit.errors import Unavailable

MYSQL_DUPLICATE_KEY = 1062
MYSQL_LOCK_WAIT_TIMEOUT = 1205
MYSQL_DEADLOCK = 1213
MIGRATION_LOCK_SECONDS = 60
# How long a request waits for a pooled connection: well inside the gateway's deadline of a
# subgraph call (SHOP_SUBGRAPH_TIMEOUT_SECONDS, 10 s). SQLAlchemy's default of 30 s let 200
# checkouts at once (make bench) pile up behind a busy database for longer than anyone waited
# for their answers, then fail as "Unexpected error."
POOL_TIMEOUT_SECONDS = 5.0
PRIVATE = 0o600

log = logging.getLogger(__name__)


class _Pool(AsyncAdaptedQueuePool):
    """The async queue pool, whose "all connections are in use" is the caller's retryable
    SERVICE_UNAVAILABLE instead of an unexpected error."""

    def _do_get(self) -> Any:
        try:
            return super()._do_get()
        except PoolTimeout as exc:
            raise Unavailable("The database is busy; try again shortly.") from exc


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    """Statement parameters are never logged (they may hold password hashes and tokens).

    SQLite: the file and its directory are created, readable by the owner only
    (``private_sqlite_file``); WAL, foreign keys and a 30 s busy timeout.
    Both: a request that finds every pooled connection in use for POOL_TIMEOUT_SECONDS gets
    ``Unavailable`` (SERVICE_UNAVAILABLE, retryable).
    MySQL: READ COMMITTED, so that a lookup, update or delete by key that finds nothing takes
    no gap lock (under REPEATABLE READ those made inserts of unrelated keys deadlock); stale
    pooled connections are tested before use and recycled.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        private_sqlite_file(url)
        engine = create_async_engine(
            url,
            hide_parameters=True,
            connect_args={"timeout": 30},
            poolclass=_Pool,
            pool_timeout=POOL_TIMEOUT_SECONDS,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(
        url,
        hide_parameters=True,
        isolation_level="READ COMMITTED",
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_size=pool_size,
        max_overflow=max_overflow,
        poolclass=_Pool,
        pool_timeout=POOL_TIMEOUT_SECONDS,
    )


def private_sqlite_file(url: str) -> None:
    """For a SQLite file database (accounts' holds password hashes, payments' processor
    tokens): creates the file, and its
    directory, readable and writable by its owner only before SQLite opens it, and narrows an
    existing file and its ``-wal`` / ``-shm`` to that mode. SQLite creates the ``-wal`` and
    ``-shm`` files with the database file's mode. Any other database: nothing."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE))
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        with contextlib.suppress(FileNotFoundError):
            try:
                os.chmod(file, PRIVATE)
            except PermissionError:
                log.warning("cannot make the database file private", extra={"path": str(file)})


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, stored as naive UTC (a naive value is
    taken as UTC already); microseconds kept on MySQL too (``DATETIME(6)``). Comparisons with
    such a column convert their parameter the same way."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """SQLModel sessions (``session.exec``); objects stay readable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def plain_sessions(engine: AsyncEngine) -> async_sessionmaker[PlainAsyncSession]:
    """SQLAlchemy Core/ORM sessions (``session.execute``, which SQLModel's deprecates)."""
    return async_sessionmaker(engine, class_=PlainAsyncSession, expire_on_commit=False)


async def migrate(engine: AsyncEngine, migrations_dir: Path) -> None:
    """Brings the schema to the newest revision of ``migrations_dir`` (Alembic ``upgrade
    head``). On MySQL a named lock, one per database, keeps processes starting together from
    migrating at once."""
    async with engine.connect() as connection:
        lock = f"schema_migration:{engine.url.database}"[:64]
        mysql = connection.dialect.name == "mysql"
        if mysql:
            taken = await connection.scalar(
                text("SELECT GET_LOCK(:n, :s)"), {"n": lock, "s": MIGRATION_LOCK_SECONDS}
            )
            if taken != 1:
                raise RuntimeError(f"another process held the migration lock {lock!r} too long")
        try:
            await connection.run_sync(_upgrade, migrations_dir)
            await connection.commit()
        finally:
            if mysql:
                await connection.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": lock})


def _upgrade(connection: Connection, migrations_dir: Path) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def run_migrations(target_metadata: MetaData) -> None:
    """The whole of a service's Alembic ``env.py``.

    At start-up ``migrate`` passes its connection in ``config.attributes["connection"]``.
    From the command line (``alembic -x url=mysql+aiomysql://... upgrade head``, with
    ``script_location`` pointing at the migrations directory) an async engine is made from the
    URL; with ``--sql`` the statements are printed instead.
    """
    from alembic import context

    def run_on(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_from_url(url: str) -> None:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(run_on)
                await connection.commit()
        finally:
            await engine.dispose()

    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    elif (connection := context.config.attributes.get("connection")) is not None:
        run_on(connection)
    elif url:
        asyncio.run(run_from_url(url))
    else:
        raise SystemExit("give the database URL: alembic -x url=... upgrade head")


async def ping(engine: AsyncEngine) -> None:
    """Raises when the database does not answer (a readiness check)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def is_unique_violation(error: DBAPIError) -> bool:
    """A duplicate primary or unique key."""
    code = _mysql_code(error)
    if code is not None:
        return code == MYSQL_DUPLICATE_KEY
    return "UNIQUE constraint failed" in str(error.orig)


def is_retryable(error: DBAPIError) -> bool:
    """A deadlock or lock-wait timeout (MySQL rolled the transaction back), or SQLite's busy
    database: the whole transaction may be run again."""
    return _mysql_code(error) in (MYSQL_DEADLOCK, MYSQL_LOCK_WAIT_TIMEOUT) or (
        "database is locked" in str(error.orig)
    )


def _mysql_code(error: DBAPIError) -> int | None:
    args: Any = getattr(error.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


class DataclassInstance(Protocol):
    """What ``dataclasses.fields`` reads: any dataclass of a domain."""

    __dataclass_fields__: ClassVar[dict[str, Any]]


Domain = TypeVar("Domain", bound=DataclassInstance)
Row = TypeVar("Row", bound=SQLModel)


def from_row(cls: type[Domain], row: object, **given: Any) -> Domain:
    """A ``cls`` whose fields are the row's columns of the same names, but for ``given``."""
    names = [f.name for f in fields(cls) if f.name not in given]
    return cls(**{name: getattr(row, name) for name in names}, **given)


def row_of(table: type[Row], value: DataclassInstance, **given: Any) -> Row:
    """A new ``table`` row holding ``value``'s fields that are its columns, and ``given``."""
    columns = table.model_fields
    copied = {f.name: getattr(value, f.name) for f in fields(value) if f.name in columns}
    return table(**copied, **given)
