"""Catalog use cases: read items, create, update, delete and restock them (admin only, checked
here), each write with its event in one transaction. The one way an item is made: the GraphQL
mutation, the REST API and the demo seed all go through ``create`` or ``seed``, which check
the fields with the domain's ``new_item``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any, Unpack

from shopkit.auth import Identity, require_admin
from shopkit.errors import InvalidInput, NotFound, ShopError
from shopkit.events import cloud_event
from shopkit.paging import Page, check_first, decode_cursor, encode_cursor, page_of
from subgraphs.items.domain import events
from subgraphs.items.domain.model import (
    Item,
    ItemChangeFields,
    ItemFields,
    NewItem,
    check_item_id,
    check_restock_quantity,
    check_upc,
    item_changes,
    new_item,
)
from subgraphs.items.store.database import ItemsDatabase
from subgraphs.items.store.transaction import Transaction

log = logging.getLogger(__name__)

SEARCH_MAX = 100
CURSOR_KIND = "item"


def not_found(item_id: str) -> NotFound:
    return NotFound(f"Item {item_id} was not found.", itemId=item_id)


@dataclass(eq=False)
class ItemService:
    db: ItemsDatabase
    _: KW_ONLY
    notify: Callable[[], None] = lambda: None

    async def get(self, item_id: str) -> Item:
        item_id = check_item_id(item_id)
        item = await self.db.get_item(item_id)
        if item is None:
            raise not_found(item_id)
        return item

    async def get_many(self, item_ids: Sequence[str]) -> list[Item | ShopError]:
        """One query for all ids; each position holds the item or the error for that id."""
        checked: list[str | ShopError] = []
        for raw in item_ids:
            try:
                checked.append(check_item_id(raw))
            except InvalidInput as error:
                checked.append(error)
        valid = [c for c in checked if isinstance(c, str)]
        found = await self.db.get_items(valid) if valid else {}
        return [c if isinstance(c, ShopError) else found.get(c) or not_found(c) for c in checked]

    async def get_by_upc(self, upc: str) -> Item:
        item = await self.db.get_item_by_upc(check_upc(upc))
        if item is None:
            raise NotFound(f"No item has UPC {upc}.", upc=upc)
        return item

    async def list(
        self, *, first: int = 20, after: str | None = None, search: str | None = None
    ) -> Page[Item]:
        """A page of the catalogue by ascending id (the kit's paging rule, keyed by id)."""
        first = check_first(first)
        after_id = check_item_id(decode_cursor(CURSOR_KIND, after), "after") if after else None
        search = (search or "").strip() or None
        if search is not None and len(search) > SEARCH_MAX:
            raise InvalidInput(f"The search must be at most {SEARCH_MAX} characters.")
        items = await self.db.list_items(after=after_id, limit=first + 1, search=search)
        return page_of(items, first=first, cursor_of=lambda i: encode_cursor(CURSOR_KIND, i.id))

    async def _write(self, work: Any) -> Item:
        item: Item = await self.db.run(work)
        self.notify()
        return item

    async def create(self, identity: Identity, **fields: Unpack[ItemFields]) -> Item:
        """An admin adds an item; the fields are checked by the domain (``new_item``), after
        the caller is known to be an admin."""
        require_admin(identity)
        return await self._insert(new_item(**fields))

    async def seed(self, catalog: Sequence[Mapping[str, Any]]) -> int:
        """Adds ``catalog`` (each entry: ``create``'s fields) if there are no items yet, as
        the service's own start-up job (no caller: ``ITEMS_SEED_DEMO_CATALOG``); answers how
        many were added."""
        if await self.db.count_items() > 0:
            return 0
        for entry in catalog:
            await self._insert(new_item(**entry))
        log.info("seeded the catalog", extra={"items": len(catalog)})
        return len(catalog)

    async def _insert(self, new: NewItem) -> Item:
        async def work(tx: Transaction) -> Item:
            item = await tx.insert_item(new)
            await tx.add_event(cloud_event(events.ItemCreated(item), producer=events.PRODUCER))
            return item

        return await self._write(work)

    async def update(
        self, identity: Identity, item_id: str, **given: Unpack[ItemChangeFields]
    ) -> Item:
        """An admin changes the fields given (not None); at least one must be."""
        require_admin(identity)
        changes = item_changes(**given)
        item_id = check_item_id(item_id)

        async def work(tx: Transaction) -> Item:
            item = await tx.update_item(item_id, changes)
            if item is None:
                raise not_found(item_id)
            updated = events.ItemUpdated(item, list(changes.fields()))
            await tx.add_event(cloud_event(updated, producer=events.PRODUCER))
            return item

        return await self._write(work)

    async def delete(self, identity: Identity, item_id: str) -> Item:
        require_admin(identity)
        item_id = check_item_id(item_id)

        async def work(tx: Transaction) -> Item:
            item = await tx.delete_item(item_id)
            if item is None:
                raise not_found(item_id)
            await tx.add_event(cloud_event(events.ItemDeleted(item), producer=events.PRODUCER))
            return item

        return await self._write(work)

    async def restock(self, identity: Identity, item_id: str, quantity: int) -> Item:
        require_admin(identity)
        item_id = check_item_id(item_id)
        quantity = check_restock_quantity(quantity)

        async def work(tx: Transaction) -> Item:
            item = await tx.add_available(item_id, quantity)
            if item is None:
                raise not_found(item_id)
            restocked = events.ItemUpdated(item, ["available"])
            await tx.add_event(cloud_event(restocked, producer=events.PRODUCER))
            return item

        return await self._write(work)
