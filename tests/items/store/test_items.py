"""The catalog service, its MongoDB store and its outbox against the real server: each write
and its event are one transaction; a refused write changes nothing."""

from __future__ import annotations

import pytest

from shopkit.auth import Identity
from shopkit.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from shopkit.events import cloud_event
from subgraphs.items.domain.events import PRODUCER, ItemDeleted
from tests.items.helpers import AN_ADMIN, draft, event_schemas, outbox_events, unique_upc


async def test_create_item_writes_the_item_and_its_event(items, db):
    item = await items.create(
        AN_ADMIN, **draft(name="Green Kettle", stock=7, attributes={"watts": 2000})
    )
    stored = await items.get(item.id)
    assert stored == item
    assert (stored.available, stored.reserved, stored.attributes) == (7, 0, {"watts": 2000})
    [event] = await outbox_events(db, item.id)
    assert event.type == "item.created"
    assert event.data["name"] == "Green Kettle"
    assert event.data["unitPrice"] == {"amount": 1999, "currency": "USD"}
    event_schemas().validate(event)


async def test_duplicate_upc_is_a_conflict_and_writes_nothing(items, db):
    upc = unique_upc()
    await items.create(AN_ADMIN, **draft(upc=upc))
    before = await db.outbox.collection.count_documents({})
    with pytest.raises(Conflict) as caught:
        await items.create(AN_ADMIN, **draft(upc=upc, name="Impostor"))
    assert caught.value.extensions["code"] == "CONFLICT"
    assert await db.outbox.collection.count_documents({}) == before
    assert (await items.get_by_upc(upc)).name == "Test Widget"


async def test_update_changes_only_the_given_fields(items, db):
    item = await items.create(AN_ADMIN, **draft(description="old"))
    updated = await items.update(AN_ADMIN, item.id, name="Renamed", price=(2500, "EUR"))
    assert (updated.name, updated.description) == ("Renamed", "old")
    assert (updated.unit_price.amount, updated.unit_price.currency) == (2500, "EUR")
    event = (await outbox_events(db, item.id))[-1]
    assert event.type == "item.updated"
    assert event.data["changed"] == ["name", "unitPrice"]
    event_schemas().validate(event)


async def test_update_to_a_taken_upc_is_a_conflict_and_changes_nothing(items, db):
    taken = await items.create(AN_ADMIN, **draft())
    item = await items.create(AN_ADMIN, **draft(name="Keeps Its Name"))
    with pytest.raises(Conflict):
        await items.update(AN_ADMIN, item.id, upc=taken.upc, name="Changed")
    assert await items.get(item.id) == item
    assert len(await outbox_events(db, item.id)) == 1


async def test_deleted_item_is_not_found_and_cannot_be_restocked(items, db):
    item = await items.create(AN_ADMIN, **draft())
    await items.delete(AN_ADMIN, item.id)
    with pytest.raises(NotFound):
        await items.get(item.id)
    with pytest.raises(NotFound):
        await items.restock(AN_ADMIN, item.id, 5)
    with pytest.raises(NotFound):
        await items.delete(AN_ADMIN, item.id)
    with pytest.raises(NotFound):
        await items.get_by_upc(item.upc)
    types = [e.type for e in await outbox_events(db, item.id)]
    assert types == ["item.created", "item.deleted"]
    event_schemas().validate((await outbox_events(db, item.id))[-1])


async def test_restock_adds_to_available(items, db):
    item = await items.create(AN_ADMIN, **draft(stock=1))
    restocked = await items.restock(AN_ADMIN, item.id, 9)
    assert restocked.available == 10
    event = (await outbox_events(db, item.id))[-1]
    assert (event.type, event.data["available"], event.data["changed"]) == (
        "item.updated",
        10,
        ["available"],
    )


@pytest.mark.parametrize("quantity", [0, -3])
async def test_restock_of_a_non_positive_quantity_is_refused(items, quantity):
    item = await items.create(AN_ADMIN, **draft(stock=4))
    with pytest.raises(InvalidInput):
        await items.restock(AN_ADMIN, item.id, quantity)
    assert (await items.get(item.id)).available == 4


async def test_listing_pages_by_id_and_searches_names_case_insensitively(items):
    tag = unique_upc()
    made = [await items.create(AN_ADMIN, **draft(name=f"Lamp {tag} #{n}")) for n in range(5)]
    await items.create(AN_ADMIN, **draft(name="Something else"))
    first = await items.list(first=2, search=f"lamp {tag}")
    assert [i.id for i in first.nodes] == [m.id for m in made[:2]]
    assert first.has_next_page
    rest = await items.list(first=10, after=first.end_cursor, search=f"LAMP {tag}")
    assert [i.id for i in rest.nodes] == [m.id for m in made[2:]]
    assert not rest.has_next_page


async def test_a_search_with_regex_characters_matches_literally(items):
    tag = unique_upc()
    await items.create(AN_ADMIN, **draft(name=f"Plain {tag}"))
    assert (await items.list(search=f"P.ain {tag}")).nodes == []
    assert len((await items.list(search=f"plain {tag}")).nodes) == 1


async def test_outbox_lists_pending_events_in_order_and_marks_them_published(items, db):
    outbox = db.outbox
    for message in await outbox.pending(10_000):
        await outbox.mark_published([message])
    a = await items.create(AN_ADMIN, **draft())
    b = await items.create(AN_ADMIN, **draft())
    pending = await outbox.pending(10)
    assert [m.key for m in pending] == [a.id, b.id]
    assert [m.type for m in pending] == ["item.created", "item.created"]
    assert pending[0].topic == "shop.item"
    await outbox.mark_published([pending[0]])
    assert [m.key for m in await outbox.pending(10)] == [b.id]


async def test_inbox_remembers_handled_events_per_consumer(db):
    inbox = db.inbox
    assert not await inbox.seen("items", "e-1")
    await inbox.record("items", "e-1")
    await inbox.record("items", "e-1")
    assert await inbox.seen("items", "e-1")
    assert not await inbox.seen("other", "e-1")
    assert await inbox.collection.count_documents({"event_id": "e-1"}) == 1


async def test_an_aborted_transaction_leaves_no_trace(items, inventory, db):
    item = await items.create(AN_ADMIN, **draft(stock=3))

    async def work(tx):
        await tx.add_available(item.id, 2)
        await tx.add_event(cloud_event(ItemDeleted(item), producer=PRODUCER))
        raise Conflict("changed my mind")

    before = await db.outbox.collection.count_documents({})
    with pytest.raises(Conflict):
        await db.run(work)
    assert (await items.get(item.id)).available == 3
    assert await db.outbox.collection.count_documents({}) == before


@pytest.mark.parametrize(
    ("caller", "refused"),
    [
        (Identity(), Unauthenticated),
        (Identity(service="orders"), Unauthenticated),
        (Identity(account_id="c", role="CUSTOMER"), Forbidden),
    ],
)
async def test_the_service_refuses_catalog_writes_to_anyone_but_an_admin(
    items, db, caller, refused
):
    item = await items.create(AN_ADMIN, **draft(stock=3))
    events_before = len(await outbox_events(db))
    writes = [
        lambda: items.create(caller, **draft()),
        lambda: items.create(caller, **draft(name="")),  # refused for the caller, not the name
        lambda: items.update(caller, item.id, name="Taken Over"),
        lambda: items.restock(caller, item.id, 5),
        lambda: items.delete(caller, item.id),
    ]
    for write in writes:
        with pytest.raises(refused):
            await write()
    assert await items.get(item.id) == item
    assert len(await outbox_events(db)) == events_before


async def test_seed_adds_a_catalog_only_to_an_empty_one(items, db):
    if await db.count_items() == 0:  # this module's database: not empty once a test ran
        await items.create(AN_ADMIN, **draft())
    assert await items.seed([draft()]) == 0
