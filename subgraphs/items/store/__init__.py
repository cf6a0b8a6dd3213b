"""Persistence in MongoDB (odmantic over motor): items and reservations, and the kit's outbox
and inbox (``shopkit.events.store.mongo``) on the same database. The only package of items
that imports the database driver."""
