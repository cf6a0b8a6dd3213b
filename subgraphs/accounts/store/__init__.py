"""Persistence of accounts (SQLModel on MySQL through aiomysql, or SQLite through aiosqlite):
tables, Alembic migrations, the repository, the login throttle and the event outbox. The only
package of the service that imports the database driver."""
