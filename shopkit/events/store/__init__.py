"""The outbox and the inbox on each engine family the services use, one implementation each:

* ``sql``: SQLite and MySQL/MariaDB through SQLAlchemy (payments, accounts);
* ``mongo``: MongoDB through motor (items);
* ``cql``: Cassandra through acsylla (orders), events as rows of their aggregate's partition.

Each module imports its database driver, so a service imports only the one it uses; nothing
else in ``shopkit.events`` imports a driver.
"""
