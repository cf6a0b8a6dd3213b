"""The payments service's settings: the shared ``SHOP_*`` ones plus its own ``PAYMENTS_*``."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from shopkit.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENTS_", extra="ignore", populate_by_name=True)

    service_name: str = "payments"
    # Empty means the embedded SQLite file ``<data_dir>/payments.db``.
    database_url: str = ""
    processor: Literal["simulated", "http"] = "simulated"
    processor_url: str = "https://api.stripe.com"
    processor_api_key: str = ""
    processor_timeout_seconds: float = 10.0
    idempotency_ttl_hours: int = 24
    # How long a running request holds its idempotency key before another may take it over
    # (a crashed process must not block the key forever); longer than a processor call.
    idempotency_lease_seconds: int = 60
    cleanup_interval_seconds: float = 3600.0

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'payments.db'}"

    @model_validator(mode="after")
    def _processor_needs_a_key(self) -> PaymentsSettings:
        if self.processor == "http" and not self.processor_api_key:
            raise ValueError("PAYMENTS_PROCESSOR_API_KEY is required when PAYMENTS_PROCESSOR=http")
        if self.idempotency_ttl_hours < 24:
            raise ValueError("PAYMENTS_IDEMPOTENCY_TTL_HOURS must be at least 24")
        return self
