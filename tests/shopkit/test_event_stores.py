"""The kit's outbox and inbox, one implementation per engine family, each against its real
engines: ``SqlOutbox``/``SqlInbox`` on SQLite and MariaDB, ``MongoOutbox``/``MongoInbox`` on
SecantusDB, ``CqlOutbox``/``CqlInbox`` on Apache Cassandra and the cqlserver.

Every engine runs the same contract: an event is written if and only if the change it
describes commits, is pending oldest first with its id, key and headers until it is marked
published, the inbox remembers an event per consumer, and the retention job deletes published
rows and inbox rows older than the retention and nothing else (on CQL the rows expire by their
TTL instead, and the job has nothing to do).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import acsylla
import pytest
import sqlalchemy as sa
from motor.motor_asyncio import AsyncIOMotorClient

from shopkit.events import CloudEvent, InboxStore, OutboxMessage, OutboxStore, new_event
from shopkit.events.retention import Purged, purge_old_events
from shopkit.events.store.cql import CqlInbox, CqlOutbox
from shopkit.events.store.mongo import MongoInbox, MongoOutbox
from shopkit.events.store.sql import SqlInbox, SqlOutbox, inbox_table, outbox_table
from shopkit.sql import create_engine, plain_sessions, sessions
from tests.support.cql import acsylla_cluster

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
HOUR = timedelta(hours=1)
ENGINES = ["sqlite", "mariadb", "mongo", "cassandra", "cqlserver"]


class ChangeFailed(Exception):
    """Raised inside a change's transaction, after its event was written."""


@dataclass
class Engine:
    name: str
    outbox: OutboxStore
    inbox: InboxStore
    # Writes the event together with a change of its aggregate (the event's subject), the way
    # a service does; with ``fail`` the change does not commit (its transaction aborts, or its
    # condition fails).
    write: Callable[[CloudEvent, bool], Awaitable[None]]
    stored: Callable[[], Awaitable[set[str]]]  # the ids of the events the outbox holds
    changed: Callable[[], Awaitable[set[str]]]  # the aggregates whose change committed
    # The same outbox and inbox with another retention (it matters to CQL only: the TTL).
    outbox_with: Callable[[timedelta], Awaitable[OutboxStore]]
    inbox_with: Callable[[timedelta], Awaitable[InboxStore]]

    @classmethod
    def with_fixed_stores(
        cls,
        name: str,
        outbox: OutboxStore,
        inbox: InboxStore,
        write: Callable[[CloudEvent, bool], Awaitable[None]],
        stored: Callable[[], Awaitable[set[str]]],
        changed: Callable[[], Awaitable[set[str]]],
    ) -> Engine:
        """SQL's and MongoDB's stores take no retention (the purge job is given it): the
        same outbox and inbox serve every retention."""

        async def same_outbox(retention: timedelta) -> OutboxStore:
            return outbox

        async def same_inbox(retention: timedelta) -> InboxStore:
            return inbox

        return cls(name, outbox, inbox, write, stored, changed, same_outbox, same_inbox)


def event(subject: str, n: int = 0, headers: dict[str, str] | None = None) -> CloudEvent:
    """An event; its id is time-based, as the CQL outbox needs (any string does elsewhere)."""
    return new_event(
        "thing.happened",
        source="shop/test",
        subject=subject,
        data={"n": n},
        id=str(uuid.uuid1()),
        headers=headers,
    )


# -- SQL -------------------------------------------------------------------------------------


@dataclass
class Sql:
    engine: Engine
    db: Any


async def open_sql(url: str, session_kind: str) -> Sql:
    db = create_engine(url)
    metadata = sa.MetaData()
    outbox_t, inbox_t = outbox_table(metadata), inbox_table(metadata)
    things = sa.Table("things", metadata, sa.Column("id", sa.String(64), primary_key=True))
    async with db.begin() as connection:
        await connection.run_sync(metadata.create_all)
    # accounts uses SQLModel's sessions, payments SQLAlchemy's: the kit serves both.
    factory: Any = sessions(db) if session_kind == "sqlmodel" else plain_sessions(db)
    outbox, inbox = SqlOutbox(factory, outbox_t), SqlInbox(factory, inbox_t)

    async def write(e: CloudEvent, fail: bool) -> None:
        async with factory.begin() as session:
            connection = await session.connection()
            await connection.execute(sa.insert(things).values(id=e.subject))
            await outbox.add(session, e)
            if fail:
                raise ChangeFailed

    async def ids(column: sa.Column[Any]) -> set[str]:
        async with db.connect() as connection:
            return {r[0] for r in await connection.execute(sa.select(column))}

    engine = Engine.with_fixed_stores(
        "sql", outbox, inbox, write, lambda: ids(outbox_t.c.event_id), lambda: ids(things.c.id)
    )
    return Sql(engine, db)


# -- MongoDB ---------------------------------------------------------------------------------


def open_mongo(url: str) -> tuple[Engine, AsyncIOMotorClient]:
    client: AsyncIOMotorClient = AsyncIOMotorClient(url, tz_aware=True, w="majority")
    database = client[f"kit_{uuid.uuid4().hex[:12]}"]
    outbox, inbox = MongoOutbox(database), MongoInbox(database)

    async def write(e: CloudEvent, fail: bool) -> None:
        async with await client.start_session() as session, session.start_transaction():
            await database["things"].insert_one({"_id": e.subject}, session=session)
            await outbox.add(e, session=session)
            if fail:
                raise ChangeFailed

    async def ids(collection: str) -> set[str]:
        return {doc["_id"] async for doc in database[collection].find({}, {"_id": 1})}

    engine = Engine.with_fixed_stores(
        "mongo", outbox, inbox, write, lambda: ids("outbox"), lambda: ids("things")
    )
    return engine, client


# -- CQL -------------------------------------------------------------------------------------

# An aggregate's table as the CQL outbox needs it (orders' is another): events are rows of
# their aggregate's partition, written in the change's conditional batch.
CQL_SCHEMA = [
    "CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = "
    "{{'class': 'SimpleStrategy', 'replication_factor': 1}}",
    "CREATE TABLE IF NOT EXISTS {ks}.things (thing_id uuid, row_kind text, row_id timeuuid, "
    "version int STATIC, event_type text, payload text, headers map<text, text>, "
    "published boolean, PRIMARY KEY ((thing_id), row_kind, row_id))",
    "CREATE TABLE IF NOT EXISTS {ks}.outbox_hints (bucket int, thing_id uuid, "
    "event_id timeuuid, PRIMARY KEY ((bucket), thing_id, event_id))",
    "CREATE TABLE IF NOT EXISTS {ks}.processed_events (consumer text, event_id text, "
    "PRIMARY KEY ((consumer, event_id)))",
]


async def cql_session(port: int) -> acsylla.Session:
    cluster = acsylla_cluster(
        port,
        consistency=acsylla.Consistency.LOCAL_QUORUM,
        serial_consistency=acsylla.Consistency.LOCAL_SERIAL,
        request_timeout=30.0,
    )
    return await cluster.create_session()


async def open_cql(port: int) -> tuple[Engine, acsylla.Session]:
    session = await cql_session(port)
    ks = f"kit_{uuid.uuid4().hex[:12]}"
    for statement in CQL_SCHEMA:
        await session.execute(acsylla.create_statement(statement.format(ks=ks), timeout=60.0))

    async def cql_outbox(retention: timedelta) -> OutboxStore:
        return await CqlOutbox.open(
            session, ks, table="things", key="thing_id", retention=retention, lookback_hours=2
        )

    async def cql_inbox(retention: timedelta) -> InboxStore:
        return await CqlInbox.open(session, ks, retention=retention)

    outbox = await CqlOutbox.open(
        session, ks, table="things", key="thing_id", retention=HOUR, lookback_hours=2
    )
    create = await session.create_prepared(
        f"INSERT INTO {ks}.things (thing_id, version) VALUES (?, 1) IF NOT EXISTS"
    )
    refused = await session.create_prepared(
        f"UPDATE {ks}.things SET version = 2 WHERE thing_id = ? IF version = 99"
    )

    async def write(e: CloudEvent, fail: bool) -> None:
        await outbox.hint(e)
        batch = acsylla.create_batch_logged()
        batch.add_statement((refused if fail else create).bind([e.subject]))
        batch.add_statement(outbox.event_row(e))
        result = await session.execute_batch(batch)
        row = result.first()
        if not row.column_value("[applied]"):
            raise ChangeFailed

    async def select(query: str) -> set[str]:
        rows = await session.execute(acsylla.create_statement(query.format(ks=ks)))
        return {str(value) for r in rows for value in r.as_dict().values()}

    engine = Engine(
        name="cql",
        outbox=outbox,
        inbox=await cql_inbox(HOUR),
        write=write,
        stored=lambda: select(
            "SELECT row_id FROM {ks}.things WHERE row_kind = 'event' ALLOW FILTERING"
        ),
        changed=lambda: select("SELECT DISTINCT thing_id FROM {ks}.things"),
        outbox_with=cql_outbox,
        inbox_with=cql_inbox,
    )
    return engine, session


@pytest.fixture(params=ENGINES)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Engine]:
    kind = request.param
    if kind in ("sqlite", "mariadb"):
        url = (
            f"sqlite+aiosqlite:///{tmp_path / 'kit.db'}"
            if kind == "sqlite"
            else request.getfixturevalue("mysql_url")
        )
        sql = await open_sql(url, "sqlmodel" if kind == "sqlite" else "sqlalchemy")
        yield sql.engine
        await sql.db.dispose()
    elif kind == "mongo":
        mongo, client = open_mongo(request.getfixturevalue("mongo_url"))
        yield mongo
        client.close()
    else:
        port = request.getfixturevalue("cassandra_port" if kind == "cassandra" else "cql_port")
        cql, session = await open_cql(int(port))
        yield cql
        await session.close()


async def pending(engine: Engine) -> list[OutboxMessage]:
    return await engine.outbox.pending(100)


# -- the contract, on every engine ------------------------------------------------------------


async def test_an_event_is_pending_with_its_id_key_and_headers_once_its_change_commits(
    engine: Engine,
) -> None:
    thing = str(uuid.uuid4())
    first = event(thing, 1, headers={"traceparent": TRACEPARENT, "tracestate": "shop=1"})
    second = event(str(uuid.uuid4()), 2)
    await engine.write(first, False)
    await engine.write(second, False)

    found = await pending(engine)

    assert [m.id for m in found] == [first.id, second.id], "oldest first"
    message = found[0]
    assert (message.key, message.topic, message.type) == (thing, "shop.thing", "thing.happened")
    assert json.loads(message.value) == json.loads(first.to_json())
    assert "headers" not in json.loads(message.value), "headers travel beside the event"
    assert message.headers == {"traceparent": TRACEPARENT, "tracestate": "shop=1"}
    assert found[1].headers == {}
    assert await engine.stored() == {first.id, second.id}


async def test_an_event_whose_change_does_not_commit_is_never_written(engine: Engine) -> None:
    kept, lost = event(str(uuid.uuid4())), event(str(uuid.uuid4()))
    await engine.write(kept, False)

    with pytest.raises(ChangeFailed):
        await engine.write(lost, True)

    assert [m.id for m in await pending(engine)] == [kept.id]
    assert await engine.stored() == {kept.id}
    assert lost.subject not in await engine.changed()


async def test_a_published_event_is_no_longer_pending_and_marking_it_again_is_harmless(
    engine: Engine,
) -> None:
    a, b = event(str(uuid.uuid4()), 1), event(str(uuid.uuid4()), 2)
    await engine.write(a, False)
    await engine.write(b, False)
    [first, second] = await pending(engine)

    await engine.outbox.mark_published([first])
    await engine.outbox.mark_published([first])  # the relay died before it knew it had

    assert await pending(engine) == [second]
    assert await engine.stored() == {a.id, b.id}, "published rows stay until the purge"


async def test_the_inbox_remembers_an_event_once_per_consumer(engine: Engine) -> None:
    event_id = str(uuid.uuid1())
    assert not await engine.inbox.seen("items", event_id)

    await engine.inbox.record("items", event_id)
    await engine.inbox.record("items", event_id)  # a redelivery racing the first

    assert await engine.inbox.seen("items", event_id)
    assert not await engine.inbox.seen("payments", event_id)


async def test_the_retention_job_purges_old_published_rows_and_old_inbox_rows_only(
    engine: Engine,
) -> None:
    old, recent, unpublished = (event(str(uuid.uuid4()), n) for n in range(3))
    for e in (unpublished, old, recent):
        await engine.write(e, False)
    by_id = {m.id: m for m in await pending(engine)}
    await engine.outbox.mark_published([by_id[old.id]])
    await engine.inbox.record("g", "handled-long-ago")
    await asyncio.sleep(0.05)
    cutoff = datetime.now(UTC)
    await asyncio.sleep(0.05)
    await engine.outbox.mark_published([by_id[recent.id]])
    await engine.inbox.record("g", "handled-just-now")

    def job() -> Awaitable[Purged]:
        return purge_old_events(
            outbox=engine.outbox,
            inbox=engine.inbox,
            outbox_retention=HOUR,
            inbox_retention=HOUR,
            now=cutoff + HOUR,  # so both purge what is older than ``cutoff``
        )

    purged = await job()

    if engine.name == "cql":  # expired by their TTL instead (the next test)
        assert purged == Purged(outbox=0, inbox=0)
        assert await engine.stored() == {old.id, recent.id, unpublished.id}
        return
    assert purged == Purged(outbox=1, inbox=1)
    assert await engine.stored() == {recent.id, unpublished.id}
    assert [m.id for m in await pending(engine)] == [unpublished.id], "pending rows stay"
    assert not await engine.inbox.seen("g", "handled-long-ago")
    assert await engine.inbox.seen("g", "handled-just-now")
    assert await job() == Purged(outbox=0, inbox=0)


@pytest.mark.parametrize("engine", ["cassandra", "cqlserver"], indirect=True)
async def test_on_cql_published_rows_and_inbox_rows_expire_after_their_retention(
    engine: Engine,
) -> None:
    short = timedelta(seconds=2)
    expiring, kept, unpublished = (event(str(uuid.uuid4()), n) for n in range(3))
    for e in (expiring, kept, unpublished):
        await engine.write(e, False)
    by_id = {m.id: m for m in await pending(engine)}
    await (await engine.outbox_with(short)).mark_published([by_id[expiring.id]])
    await (await engine.outbox_with(HOUR)).mark_published([by_id[kept.id]])
    await (await engine.inbox_with(short)).record("g", "forgotten")
    await (await engine.inbox_with(HOUR)).record("g", "remembered")
    assert await engine.stored() == {expiring.id, kept.id, unpublished.id}

    await asyncio.sleep(3.0)

    assert await engine.stored() == {kept.id, unpublished.id}
    assert [m.id for m in await pending(engine)] == [unpublished.id]
    assert not await engine.inbox.seen("g", "forgotten")
    assert await engine.inbox.seen("g", "remembered")


# -- MongoDB: an event stored in the document it describes ----------------------------------


@pytest.fixture
async def mongo_outbox(mongo_url: str) -> AsyncIterator[MongoOutbox]:
    """The MongoDB outbox alone, on a database of its own."""
    engine, client = open_mongo(mongo_url)
    outbox = engine.outbox
    assert isinstance(outbox, MongoOutbox)
    yield outbox
    client.close()


async def test_an_event_stored_with_a_single_document_change_is_copied_to_the_outbox_once(
    mongo_outbox: MongoOutbox,
) -> None:
    e = event("order-1", headers={"traceparent": TRACEPARENT})
    document = MongoOutbox.document(e)  # what a reservation keeps beside its change
    await mongo_outbox.copy(document)
    await mongo_outbox.copy(document)  # the change was completed twice (a crash, the sweep)

    [message] = await mongo_outbox.pending(10)
    assert (message.id, message.key, message.headers) == (
        e.id,
        "order-1",
        {"traceparent": TRACEPARENT},
    )
    assert await mongo_outbox.collection.count_documents({}) == 1


async def test_a_mongo_outbox_document_written_before_headers_existed_has_none(
    mongo_outbox: MongoOutbox,
) -> None:
    document = MongoOutbox.document(event("item-1"))
    del document["headers"]
    await mongo_outbox.collection.insert_one(document)
    [message] = await mongo_outbox.pending(10)
    assert message.headers == {}


# -- SQL: payments and accounts migrate their tables to the kit's layout ---------------------

# Each service's last revision before the kit's layout, and a pending and a published row
# written in that revision's own layout.
OLD_OUTBOX_ROWS = {
    "payments": (
        "0003",
        "INSERT INTO outbox (id, topic, msg_key, type, value, created_at, published_at) VALUES "
        "(:id, 'shop.payment', 'order-1', 'payment.succeeded', :value, :at, :published)",
    ),
    "accounts": (
        "0002",
        "INSERT INTO outbox (event_id, topic, `key`, type, payload, created_at, published_at) "
        "VALUES (:id, 'shop.account', 'order-1', 'account.created', :value, :at, :published)",
    ),
}


def _migrate(
    connection: sa.Connection, migrations: Path, revision: str, down: bool = False
) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


def _upgrade(connection: sa.Connection, migrations: Path, revision: str) -> None:
    _migrate(connection, migrations, revision)


def _layout(connection: sa.Connection, table: str) -> dict[str, Any]:
    """What a table is made of: columns (type, nullability), unique keys and indexes."""
    inspector = sa.inspect(connection)
    return {
        "columns": {
            c["name"]: (str(c["type"].compile(connection.dialect)), c["nullable"])
            for c in inspector.get_columns(table)
        },
        "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
        "unique": sorted(
            (u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)
        ),
        "indexes": sorted(
            (i["name"], tuple(i["column_names"]), bool(i["unique"]))
            for i in inspector.get_indexes(table)
            if not i.get("duplicates_constraint")
        ),
    }


@pytest.mark.parametrize("db_kind", ["sqlite", "mariadb"])
async def test_payments_and_accounts_migrate_their_outbox_to_the_kits_layout_keeping_its_rows(
    db_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from stack.engines import mysql_execute
    from subgraphs.accounts.store.database import MIGRATIONS as ACCOUNTS
    from subgraphs.payments.store.database import MIGRATIONS as PAYMENTS

    def fresh_url(name: str) -> str:
        if db_kind == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path / name}.db"
        server = request.getfixturevalue("mysql_server")
        database = f"t_{uuid.uuid4().hex[:12]}"
        mysql_execute(server, f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
        return f"{server}/{database}"

    kit = create_engine(fresh_url("kit"))
    async with kit.begin() as connection:
        metadata = sa.MetaData()
        outbox_table(metadata), inbox_table(metadata)
        await connection.run_sync(metadata.create_all)
        expected = {t: await connection.run_sync(_layout, t) for t in ("outbox", "inbox")}
    await kit.dispose()

    for service, migrations in (("payments", PAYMENTS), ("accounts", ACCOUNTS)):
        revision, insert = OLD_OUTBOX_ROWS[service]
        if db_kind == "sqlite":
            insert = insert.replace("`key`", '"key"')
        db = create_engine(fresh_url(service))
        try:
            async with db.begin() as connection:
                await connection.run_sync(_upgrade, migrations, revision)
                for event_id, published in (("e-pending", None), ("e-published", "2025-01-02")):
                    values = {"id": event_id, "value": f'{{"id": "{event_id}"}}'}
                    at = {"at": "2025-01-01 00:00:00", "published": published}
                    await connection.execute(sa.text(insert), {**values, **at})
            async with db.begin() as connection:
                await connection.run_sync(_upgrade, migrations, "head")
                assert await connection.run_sync(_layout, "outbox") == expected["outbox"], service
                if service == "payments":
                    assert await connection.run_sync(_layout, "inbox") == expected["inbox"]

            outbox = SqlOutbox(plain_sessions(db), outbox_table(sa.MetaData()))
            [old] = await outbox.pending(10)
            assert (old.id, old.key, old.value, old.headers) == (
                "e-pending",
                "order-1",
                '{"id": "e-pending"}',
                {},
            )
            assert await outbox.purge_published(datetime.now(UTC)) == 1
            assert [m.id for m in await outbox.pending(10)] == ["e-pending"]

            # The migration goes back to the old layout with the row, and forth again.
            async with db.begin() as connection:
                await connection.run_sync(_migrate, migrations, revision, True)
                columns = await connection.run_sync(_layout, "outbox")
                assert "headers" not in columns["columns"]
                assert "aggregate_id" not in columns["columns"]
                [(count,)] = await connection.execute(sa.text("SELECT COUNT(*) FROM outbox"))
                assert count == 1
            async with db.begin() as connection:
                await connection.run_sync(_upgrade, migrations, "head")
                assert await connection.run_sync(_layout, "outbox") == expected["outbox"], service
        finally:
            await db.dispose()


@pytest.mark.parametrize(
    "name", ["outbox_retention_hours", "inbox_retention_hours", "event_retention_interval_seconds"]
)
def test_a_retention_setting_that_is_not_positive_is_refused_at_start_up(name: str) -> None:
    from pydantic import ValidationError

    from shopkit.settings import ServiceSettings

    with pytest.raises(ValidationError, match="must be a positive number"):
        ServiceSettings.model_validate({name: 0})
    defaults = ServiceSettings()
    assert (defaults.outbox_retention, defaults.inbox_retention) == (
        timedelta(days=7),
        timedelta(days=21),
    )
