"""Where the payments schema's Alembic migrations live (engine, sessions and ``migrate``:
``shopkit.sql``), and the two things the payments store asks of the database engine itself:
a write lock that SQLite honours, and another go at a transaction the engine gave up on."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from shopkit.errors import Unavailable
from shopkit.sql import is_retryable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CONTENTION_ATTEMPTS = 5

log = logging.getLogger(__name__)
T = TypeVar("T")


async def lock_for_writing(session: AsyncSession, row: sa.Select[Any]) -> sa.Select[Any]:
    """Makes ``row`` (a SELECT of the row this transaction will change) lock what it reads.

    MySQL: ``SELECT ... FOR UPDATE`` locks the row until the transaction ends. SQLite has no
    row locks and leaves FOR UPDATE out, and the driver would begin the transaction only at
    the first write: two transactions could both read the same state and both write. So on
    SQLite the transaction begins with ``BEGIN IMMEDIATE``, which takes the database's write
    lock before the read (others wait for it, up to the busy timeout). Either way the lock is
    held for a few local statements only: no caller talks to the network inside it.
    """
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(sa.text("BEGIN IMMEDIATE"))
        return row
    return row.with_for_update()


async def retry_on_contention(work: Callable[[], Awaitable[T]], what: str) -> T:
    """Runs a transaction again when the engine rolled it back for contention (a MySQL
    deadlock or lock-wait timeout, a busy SQLite database); after a few tries, ``Unavailable``."""
    for _ in range(CONTENTION_ATTEMPTS):
        try:
            return await work()
        except DBAPIError as error:
            if not is_retryable(error):
                raise
            log.info("transaction rolled back for contention; retrying", extra={"what": what})
    raise Unavailable("The request could not be started; retry with the same key.")
