"""The payments service's settings: the shared ``SHOP_*`` ones (the card processor's among them,
read by accounts too) plus its own ``PAYMENTS_*``, ``PAYMENTS_DATABASE_URL`` among them
(``SqlDatabaseSettings``: the same setting as accounts')."""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from shopkit.processor import ProcessorSettings
from shopkit.processor.http_processor import ATTEMPTS
from shopkit.settings import SqlDatabaseSettings


class PaymentsSettings(ProcessorSettings, SqlDatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENTS_")

    service_name: str = "payments"
    idempotency_ttl_hours: int = 24
    # How long a running request holds its idempotency key before another may take it over
    # (a crashed process must not block the key forever); longer than a processor call.
    idempotency_lease_seconds: int = 60
    cleanup_interval_seconds: float = 3600.0
    # Charges and refunds whose outcome is unknown are looked up at the processor at start-up
    # and then this often (service/reconciliation.py).
    reconcile_interval_seconds: float = 60.0
    # A charge the processor has no trace of is declared never made only once it is this old:
    # by then the request that sent it can no longer reach the processor.
    unknown_outcome_grace_seconds: float = 300.0

    @model_validator(mode="after")
    def _checks(self) -> PaymentsSettings:
        if self.idempotency_ttl_hours < 24:
            raise ValueError("PAYMENTS_IDEMPOTENCY_TTL_HOURS must be at least 24")
        longest_call = ATTEMPTS * self.processor_timeout_seconds + 1
        if self.unknown_outcome_grace_seconds <= longest_call:
            raise ValueError(
                "PAYMENTS_UNKNOWN_OUTCOME_GRACE_SECONDS must be longer than a processor call "
                f"with its retries ({longest_call:g} s with SHOP_PROCESSOR_TIMEOUT_SECONDS="
                f"{self.processor_timeout_seconds:g})"
            )
        return self
