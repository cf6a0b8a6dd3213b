"""The accounts app: ``uvicorn subgraphs.accounts.app:create_app --factory`` (port 4004).

Start-up opens the database (an embedded SQLite file is made readable by its owner only:
``shopkit.sql.create_engine``) and migrates it (Alembic), ensures the admin from
``SHOP_ADMIN_EMAIL`` / ``SHOP_ADMIN_PASSWORD``, and runs the event runtime (the outbox relay and
the purge of old outbox rows). ``GET /.well-known/jwks.json`` publishes the token signing key
(public: not behind the gateway-secret check). The card processor that tokenizes saved cards
is the one given, else the one ``SHOP_PROCESSOR*`` names (as in payments).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shopkit.app import create_app as create_kit_app
from shopkit.auth import AccessTokenVerifier
from shopkit.events import EventRuntime
from shopkit.events.store.sql import SqlOutbox
from shopkit.processor import PaymentProcessor, build_processor
from shopkit.sql import create_engine, migrate, ping, sessions
from subgraphs.accounts.domain.events import PRODUCES
from subgraphs.accounts.graphql.context import build_context
from subgraphs.accounts.graphql.schema import schema
from subgraphs.accounts.service.accounts import Accounts
from subgraphs.accounts.service.auth import Auth
from subgraphs.accounts.service.passwords import Passwords
from subgraphs.accounts.service.payment_methods import PaymentMethods
from subgraphs.accounts.service.profile import Profiles
from subgraphs.accounts.service.tokens import SigningKey, TokenIssuer, development_key
from subgraphs.accounts.settings import AccountsSettings
from subgraphs.accounts.store.accounts import AccountStore
from subgraphs.accounts.store.database import MIGRATIONS
from subgraphs.accounts.store.tables import OUTBOX
from subgraphs.accounts.store.throttle import LoginThrottle

JWKS_PATH = "/.well-known/jwks.json"


def signing_key(settings: AccountsSettings) -> SigningKey:
    if settings.jwt_private_key is not None:
        return SigningKey.from_pem(settings.jwt_private_key.get_secret_value().encode())
    return development_key(settings.data_dir)


def create_app(
    settings: AccountsSettings | None = None,
    *,
    verifier: Callable[[httpx.AsyncClient], AccessTokenVerifier] | None = None,
    processor: PaymentProcessor | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    settings = settings or AccountsSettings()
    tokens = TokenIssuer(
        signing_key(settings),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.token_ttl_seconds,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        try:
            await migrate(engine, MIGRATIONS)
            factory = sessions(engine)
            runtime = EventRuntime(settings, outbox=SqlOutbox(factory, OUTBOX), produces=PRODUCES)
            accounts = Accounts(
                AccountStore(factory),
                LoginThrottle(
                    factory,
                    max_attempts=settings.login_max_failures,
                    window=timedelta(seconds=settings.login_window_seconds),
                    lockout=timedelta(seconds=settings.login_lockout_seconds),
                    max_lockout=timedelta(seconds=settings.login_lockout_max_seconds),
                    failure_delay=settings.login_failure_delay_seconds,
                    max_failure_delay=settings.login_failure_delay_max_seconds,
                ),
                notify=runtime.notify,
                clock=clock or (lambda: datetime.now(UTC)),
            )
            passwords = Passwords(
                settings.password_memory_kib,
                settings.password_time_cost,
                settings.password_parallelism,
            )
            auth = Auth(accounts, passwords, tokens)
            if settings.admin_email and settings.admin_password:
                await auth.ensure_admin(
                    settings.admin_email, settings.admin_password.get_secret_value()
                )
            app.state.auth = auth
            app.state.profiles = Profiles(accounts, passwords)
            app.state.processor = processor or build_processor(settings, app.state.http)
            app.state.payment_methods = PaymentMethods(accounts, app.state.processor)
            app.state.engine = engine
            app.state.readiness["database"] = lambda: ping(engine)
            async with runtime.running():
                yield
        finally:
            await engine.dispose()

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(tokens.jwks(), headers={"cache-control": "public, max-age=300"})

    app = create_kit_app(
        settings,
        schema=schema,
        context=build_context,
        lifespan=lifespan,
        routes=[Route(JWKS_PATH, jwks, methods=["GET"])],
        verifier=verifier or (lambda http: tokens.verifier()),
    )
    app.state.tokens = tokens
    return app
