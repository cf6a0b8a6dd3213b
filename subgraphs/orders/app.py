"""The orders app: ``uvicorn subgraphs.orders.app:create_app --factory``.

The lifespan opens the one Cassandra session (and applies ``store/schema.cql``), builds the
service, runs the event runtime (outbox relay, payment consumers; old outbox and inbox rows
expire by their TTL), the fan-out of order events to live subscriptions
(``service/status_feed.py``) and the sweep of unpaid orders (``service/unpaid.py``): it
reconciles them with payments and cancels those left unpaid past the payment window with no
payment in flight.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
from starlette.applications import Starlette

from shopkit.app import create_app as create_kit_app
from shopkit.auth import AccessTokenVerifier
from shopkit.events import EventRuntime, topic_for
from shopkit.events.fanout import KeyedFanout
from shopkit.events.store.cql import CqlInbox, CqlOutbox
from shopkit.service_client import ServiceClient
from shopkit.tasks import periodic
from subgraphs.orders.domain.events import PRODUCES, OrderCreated
from subgraphs.orders.events.handlers import payment_handlers
from subgraphs.orders.graphql.context import make_context
from subgraphs.orders.graphql.schema import schema
from subgraphs.orders.service.items import ItemsStock
from subgraphs.orders.service.orders import OrderService
from subgraphs.orders.service.payments import PaymentsClient
from subgraphs.orders.service.status_feed import OrderStatusFeed
from subgraphs.orders.service.unpaid import UnpaidOrders
from subgraphs.orders.settings import OrdersSettings
from subgraphs.orders.store.orders import CqlOrderStore
from subgraphs.orders.store.session import connect, ping

log = logging.getLogger(__name__)


async def sweep_unpaid(unpaid: UnpaidOrders) -> None:
    result = await unpaid.sweep()
    if result:
        log.info("swept unpaid orders", extra=dict(vars(result)))


def create_app(
    settings: OrdersSettings | None = None,
    *,
    verifier: Callable[[httpx.AsyncClient], AccessTokenVerifier] | None = None,
) -> Starlette:
    settings = settings or OrdersSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ks = settings.keyspace
        session = await connect(settings.cql_hosts, settings.cql_port, ks)
        try:
            outbox = await CqlOutbox.open(
                session, ks, table="orders", key="order_id", retention=settings.outbox_retention
            )
            inbox = await CqlInbox.open(session, ks, retention=settings.inbox_retention)
            store = await CqlOrderStore.open(session, ks, outbox)
            items = ServiceClient.calling(settings.items_url, settings, app.state.http)
            payments = ServiceClient.calling(settings.payments_url, settings, app.state.http)
            runtime = EventRuntime(settings, outbox=outbox, produces=PRODUCES)
            service = OrderService(
                store,
                ItemsStock(items),
                payment_window=timedelta(seconds=settings.payment_window_seconds),
                key_lease=timedelta(seconds=settings.idempotency_lease_seconds),
                notify=runtime.notify,
            )
            unpaid = UnpaidOrders(
                service,
                PaymentsClient(payments),
                reconcile_after=timedelta(seconds=settings.reconcile_after_seconds),
            )
            runtime.consume(inbox, payment_handlers(service))
            fanout = KeyedFanout(
                settings.kafka_bootstrap,
                topic_for(OrderCreated.type),
                max_total=settings.subscriptions_max_total,
                max_per_owner=settings.subscriptions_max_per_account,
            )
            app.state.orders = service
            app.state.status_feed = OrderStatusFeed(service, fanout)
            app.state.events = runtime
            app.state.readiness["cassandra"] = lambda: ping(session)
            sweep = periodic(
                lambda: sweep_unpaid(unpaid),
                settings.expiry_sweep_seconds,
                name="orders-unpaid-sweep",
                what="sweep of unpaid orders",
            )
            feeding = fanout.running() if settings.events_enabled else contextlib.nullcontext()
            async with runtime.running(), sweep.running(), feeding:
                yield
        finally:
            await session.close()

    return create_kit_app(
        settings, schema=schema, context=make_context, lifespan=lifespan, verifier=verifier
    )
