"""The items service's Starlette app (``uvicorn subgraphs.items.app:create_app --factory``).

The lifespan opens MongoDB, creates the indexes, seeds the demo catalog when asked, builds the
services and runs the event runtime (outbox relay, order event consumer, purge of old outbox
and inbox documents) and the inventory sweep (stock changes cut short by a crash, holds whose
order does not exist or has ended)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
from starlette.applications import Starlette

from shopkit.app import create_app as create_shop_app
from shopkit.auth import AccessTokenVerifier
from shopkit.events import EventRuntime
from shopkit.service_client import ServiceClient
from shopkit.tasks import periodic
from subgraphs.items.domain.events import PRODUCES
from subgraphs.items.events.handlers import order_handlers
from subgraphs.items.graphql.context import build_context
from subgraphs.items.graphql.schema import schema
from subgraphs.items.rest import routes
from subgraphs.items.service.holds import OrphanHoldSweep
from subgraphs.items.service.inventory import InventoryService
from subgraphs.items.service.items import ItemService
from subgraphs.items.service.orders import OrdersClient
from subgraphs.items.settings import ItemsSettings
from subgraphs.items.store.database import ItemsDatabase
from subgraphs.items.store.seed import DEMO_CATALOG


async def sweep_inventory(inventory: InventoryService, holds: OrphanHoldSweep) -> None:
    """Repairs stock changes a crash cut short, then reviews the holds that are due."""
    await inventory.repair()
    await holds.run()


def create_app(
    settings: ItemsSettings | None = None,
    *,
    verifier: Callable[[httpx.AsyncClient], AccessTokenVerifier] | None = None,
) -> Starlette:
    settings = settings or ItemsSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = ItemsDatabase(settings.mongo_url, settings.database)
        try:
            await db.configure()
            runtime = EventRuntime(settings, outbox=db.outbox, produces=PRODUCES)
            items = ItemService(db, notify=runtime.notify)
            inventory = InventoryService(
                db,
                notify=runtime.notify,
                hold_grace=timedelta(seconds=settings.hold_grace_seconds),
            )
            orders = OrdersClient(
                ServiceClient.calling(settings.orders_url, settings, app.state.http)
            )
            sweep = periodic(
                lambda: sweep_inventory(inventory, OrphanHoldSweep(inventory, orders)),
                settings.sweep_interval_seconds,
                name="items-inventory-sweep",
                what="inventory sweep (interrupted stock changes, orphaned holds)",
            )
            runtime.consume(db.inbox, order_handlers(inventory))
            app.state.db = db
            app.state.items = items
            app.state.inventory = inventory
            app.state.events = runtime
            app.state.readiness["mongo"] = db.ping
            if settings.seed_demo_catalog:
                await items.seed(DEMO_CATALOG)
            async with sweep.running(), runtime.running():
                yield
        finally:
            db.close()

    return create_shop_app(
        settings,
        schema=schema,
        context=build_context,
        lifespan=lifespan,
        routes=routes,
        verifier=verifier,
    )
