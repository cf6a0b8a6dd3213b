"""The kit's relational database helpers against real MariaDB and a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from shopkit.sql import create_engine, is_retryable, is_unique_violation, migrate, ping
from subgraphs.accounts.store.database import MIGRATIONS


async def test_mysql_connections_read_committed(mysql_url: str) -> None:
    engine = create_engine(mysql_url)
    try:
        async with engine.connect() as connection:
            assert await connection.get_isolation_level() == "READ COMMITTED"
    finally:
        await engine.dispose()


async def test_four_processes_migrating_one_mysql_database_at_once_all_succeed(
    mysql_url: str,
) -> None:
    engines = [create_engine(mysql_url) for _ in range(4)]
    try:
        await asyncio.gather(*(migrate(engine, MIGRATIONS) for engine in engines))
        async with engines[0].connect() as connection:
            versions = list(await connection.execute(text("SELECT * FROM alembic_version")))
        assert len(versions) == 1
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_sqlite_file_gets_its_directory_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'dir' / 'db.sqlite'}")
    try:
        await migrate(engine, MIGRATIONS)
        await ping(engine)
        async with engine.connect() as connection:
            assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert await connection.scalar(text("PRAGMA busy_timeout")) == 30000
        assert (tmp_path / "new" / "dir" / "db.sqlite").exists()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["mysql", "sqlite"])
async def test_a_duplicate_key_is_a_unique_violation_and_not_retryable(
    backend: str, mysql_url: str, tmp_path: Path
) -> None:
    url = mysql_url if backend == "mysql" else f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(IntegrityError) as raised:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
        assert is_unique_violation(raised.value)
        assert not is_retryable(raised.value)
    finally:
        await engine.dispose()


async def test_a_mysql_deadlock_is_retryable(mysql_url: str) -> None:
    engine = create_engine(mysql_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1, 0), (2, 0)"))
        both_locked = asyncio.Barrier(2)

        async def update(first: int, second: int) -> None:
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE t SET v = v + 1 WHERE k = :k"), {"k": first})
                await both_locked.wait()
                await connection.execute(text("UPDATE t SET v = v + 1 WHERE k = :k"), {"k": second})

        results = await asyncio.gather(update(1, 2), update(2, 1), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1
        assert isinstance(errors[0], DBAPIError)
        assert is_retryable(errors[0])
        assert not is_unique_violation(errors[0])
    finally:
        await engine.dispose()


async def test_a_request_that_finds_every_connection_in_use_gets_service_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not an "Unexpected error." after 30 s: a retryable SERVICE_UNAVAILABLE inside the
    gateway's deadline (the pool's wait is shortened here to keep the test quick)."""
    import shopkit.sql as sql
    from shopkit.errors import Unavailable

    monkeypatch.setattr(sql, "POOL_TIMEOUT_SECONDS", 0.3)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}")
    held = []
    try:
        for _ in range(15):  # the pool's 5 connections and its 10 of overflow
            held.append(await engine.connect().start())
        with pytest.raises(Unavailable):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        await held.pop().close()
        async with engine.connect() as connection:  # one is free again
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        for connection in held:
            await connection.close()
        await engine.dispose()
