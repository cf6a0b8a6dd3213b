"""The payments app: ``uvicorn subgraphs.payments.app:create_app --factory``.

The lifespan opens the database and migrates it, builds the processor (``SHOP_PROCESSOR*``,
shared with accounts), the service clients and the payment service, runs the event runtime
(the outbox relay, the ``shop.order`` consumer of ``order.cancelled`` and
``order.payment_refused``, the purge of old outbox and inbox rows), reconciles
charges and refunds whose outcome is unknown with the processor at start-up and then
periodically, and periodically expires old idempotency keys and refunds cancelled orders that
still hold money.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from shopkit.app import create_app as create_kit_app
from shopkit.auth import AccessTokenVerifier
from shopkit.events import EventRuntime
from shopkit.events.store.sql import SqlInbox, SqlOutbox
from shopkit.processor import PaymentProcessor, build_processor
from shopkit.service_client import ServiceClient
from shopkit.sql import create_engine, migrate, ping, plain_sessions
from shopkit.tasks import periodic
from subgraphs.payments.domain.events import PRODUCES
from subgraphs.payments.events.handlers import handlers
from subgraphs.payments.graphql.context import make_context
from subgraphs.payments.graphql.schema import schema
from subgraphs.payments.service.clients import AccountsClient, OrdersClient
from subgraphs.payments.service.idempotency import IdempotencyKeys
from subgraphs.payments.service.payments import PaymentService
from subgraphs.payments.settings import PaymentsSettings
from subgraphs.payments.store.cancellations import SqlCancellationStore
from subgraphs.payments.store.database import MIGRATIONS
from subgraphs.payments.store.idempotency import SqlIdempotencyStore
from subgraphs.payments.store.payments import SqlPaymentStore
from subgraphs.payments.store.tables import INBOX, OUTBOX

log = logging.getLogger(__name__)


async def _reconcile(service: PaymentService) -> None:
    done = await service.reconcile()
    if done.charges or done.refunds:
        log.info(
            "charges and refunds settled with the processor",
            extra={"charges": done.charges, "refunds": done.refunds},
        )


async def _housekeeping(keys: SqlIdempotencyStore, service: PaymentService) -> None:
    removed = await keys.cleanup(datetime.now(UTC))
    if removed:
        log.info("expired idempotency keys removed", extra={"count": removed})
    refunded = await service.refund_cancelled_orders()
    if refunded:
        log.info("cancelled orders refunded by the sweep", extra={"count": refunded})


def create_app(
    settings: PaymentsSettings | None = None,
    *,
    verifier: Callable[[httpx.AsyncClient], AccessTokenVerifier] | None = None,
    processor: PaymentProcessor | None = None,
) -> Starlette:
    settings = settings or PaymentsSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, max_overflow=40)
        try:
            await migrate(engine, MIGRATIONS)
            sessions = plain_sessions(engine)
            http: httpx.AsyncClient = app.state.http
            orders = ServiceClient.calling(settings.orders_url, settings, http)
            accounts = ServiceClient.calling(settings.accounts_url, settings, http)
            key_store = SqlIdempotencyStore(sessions)
            runtime = EventRuntime(settings, outbox=SqlOutbox(sessions, OUTBOX), produces=PRODUCES)
            service = PaymentService(
                payments=SqlPaymentStore(sessions),
                cancellations=SqlCancellationStore(sessions),
                keys=IdempotencyKeys(
                    key_store,
                    secret=settings.service_secret,
                    ttl=timedelta(hours=settings.idempotency_ttl_hours),
                    lease=timedelta(seconds=settings.idempotency_lease_seconds),
                    clock=lambda: datetime.now(UTC),
                ),
                processor=processor or build_processor(settings, http),
                orders=OrdersClient(orders),
                accounts=AccountsClient(accounts),
                notify=runtime.notify,
                unknown_outcome_grace=timedelta(seconds=settings.unknown_outcome_grace_seconds),
            )
            runtime.consume(SqlInbox(sessions, INBOX), handlers(service))
            app.state.engine = engine
            app.state.payments = service
            app.state.events = runtime
            app.state.readiness["database"] = lambda: ping(engine)
            cleanup = periodic(
                lambda: _housekeeping(key_store, service),
                settings.cleanup_interval_seconds,
                name="payments-cleanup",
                what="idempotency key cleanup and cancelled-order refund sweep",
            )
            # Its first run is at start-up: what a crash left unsettled is settled first.
            reconciliation = periodic(
                lambda: _reconcile(service),
                settings.reconcile_interval_seconds,
                name="payments-reconciliation",
                what="reconciliation of unsettled charges and refunds with the processor",
            )
            async with cleanup.running(), reconciliation.running(), runtime.running():
                yield
        finally:
            await engine.dispose()

    return create_kit_app(
        settings, schema=schema, context=make_context, lifespan=lifespan, verifier=verifier
    )
