"""The payments store: the only package that talks to the database (SQLModel on aiomysql, or
aiosqlite when embedded), including the outbox, the inbox and the migrations."""
