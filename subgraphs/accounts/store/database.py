"""Where the accounts schema's Alembic migrations live, and the embedded SQLite file made
private before it is opened (engine, sessions and ``migrate``: ``shopkit.sql``)."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PRIVATE = 0o600


def private_sqlite_file(url: str) -> None:
    """For a SQLite file database (it holds password hashes): creates the file, and its
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
