"""Persistence in MongoDB (odmantic over motor): items, reservations, the outbox and the
inbox. The only package that imports the database driver."""
