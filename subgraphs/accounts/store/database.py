"""Where the accounts schema's Alembic migrations live (engine, sessions and ``migrate``:
``shopkit.sql``)."""

from __future__ import annotations

from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
