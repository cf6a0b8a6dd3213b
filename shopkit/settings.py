"""Settings read from the environment, validated at start-up.

``ServiceSettings`` holds what every service shares (``SHOP_*`` variables); each service
subclasses it and sets only its own ``env_prefix`` for its own fields
(``model_config = SettingsConfigDict(env_prefix="ITEMS_")``: pydantic merges it with the
config here, so unknown variables are ignored and fields may be given by name everywhere).
Outside development, placeholder secrets are refused. ``SqlDatabaseSettings`` is the one
database setting of the services that keep a relational database (payments, accounts).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_GATEWAY_SECRET = "dev-gateway-secret-change-me-not-for-production"
DEV_SERVICE_SECRET = "dev-service-secret-change-me-not-for-production"
REPO_ROOT = Path(__file__).resolve().parent.parent


def shared(name: str, default: Any) -> Any:
    """A field read from ``SHOP_<NAME>`` whatever the subclass's prefix."""
    return Field(default, validation_alias=AliasChoices(f"SHOP_{name}"))


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "shop"
    env: Literal["development", "test", "production"] = shared("ENV", "development")
    log_level: str = shared("LOG_LEVEL", "INFO")
    data_dir: Path = shared("DATA_DIR", REPO_ROOT / ".data")

    kafka_bootstrap: str = shared("KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    events_enabled: bool = shared("EVENTS_ENABLED", True)
    outbox_poll_seconds: float = shared("OUTBOX_POLL_SECONDS", 0.5)
    consumer_group: str | None = shared("CONSUMER_GROUP", None)  # default: the service name
    # The retention job (shopkit/events/retention.py says why these defaults).
    outbox_retention_hours: float = shared("OUTBOX_RETENTION_HOURS", 7 * 24)
    inbox_retention_hours: float = shared("INBOX_RETENTION_HOURS", 21 * 24)
    event_retention_interval_seconds: float = shared("EVENT_RETENTION_INTERVAL_SECONDS", 3600)

    gateway_secret: str = shared("GATEWAY_SECRET", DEV_GATEWAY_SECRET)
    service_secret: str = shared("SERVICE_SECRET", DEV_SERVICE_SECRET)
    require_gateway: bool = shared("REQUIRE_GATEWAY", True)

    jwks_url: str = shared("JWKS_URL", "http://127.0.0.1:4004/.well-known/jwks.json")
    jwt_issuer: str = shared("JWT_ISSUER", "shop-accounts")
    jwt_audience: str = shared("JWT_AUDIENCE", "shop")

    # Tracing (shopkit/tracing.py): on when set, under the standard OpenTelemetry name.
    tracing_endpoint: str = Field("", validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT"))

    items_url: str = shared("ITEMS_URL", "http://127.0.0.1:4001/graphql")
    orders_url: str = shared("ORDERS_URL", "http://127.0.0.1:4002/graphql")
    payments_url: str = shared("PAYMENTS_URL", "http://127.0.0.1:4003/graphql")
    accounts_url: str = shared("ACCOUNTS_URL", "http://127.0.0.1:4004/graphql")

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def outbox_retention(self) -> timedelta:
        """How long a published outbox row is kept."""
        return timedelta(hours=self.outbox_retention_hours)

    @property
    def inbox_retention(self) -> timedelta:
        """How long a consumer remembers a handled event id."""
        return timedelta(hours=self.inbox_retention_hours)

    @model_validator(mode="after")
    def _positive_retention(self) -> ServiceSettings:
        for name, value in (
            ("SHOP_OUTBOX_RETENTION_HOURS", self.outbox_retention_hours),
            ("SHOP_INBOX_RETENTION_HOURS", self.inbox_retention_hours),
            ("SHOP_EVENT_RETENTION_INTERVAL_SECONDS", self.event_retention_interval_seconds),
        ):
            if not value > 0:
                raise ValueError(f"{name} must be a positive number; got {value}")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.production:
            for name, value in (
                ("SHOP_GATEWAY_SECRET", self.gateway_secret),
                ("SHOP_SERVICE_SECRET", self.service_secret),
            ):
                if value.startswith("dev-") or len(value) < 32:
                    raise ValueError(
                        f"{name} must be a real secret of 32+ characters in production"
                    )
        return self


class SqlDatabaseSettings(ServiceSettings):
    """``<PREFIX>DATABASE_URL`` (``PAYMENTS_DATABASE_URL``, ``ACCOUNTS_DATABASE_URL``): an
    SQLAlchemy async URL, e.g. ``mysql+aiomysql://user:password@host:3306/shop_payments``.
    Empty or unset means the embedded SQLite file ``<data_dir>/<service_name>.db``. Once
    validated, ``database_url`` is the URL the service opens, whichever was meant."""

    database_url: str = ""

    @model_validator(mode="after")
    def _embedded_sqlite_by_default(self) -> SqlDatabaseSettings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / self.service_name}.db"
        return self
