"""Settings of the accounts service: ``ACCOUNTS_*`` variables, plus the shared ``SHOP_*`` ones
(including ``SHOP_ADMIN_EMAIL`` / ``SHOP_ADMIN_PASSWORD`` for the admin ensured at start-up, and
the card processor's ``SHOP_PROCESSOR*``, the same as payments'), and ``ACCOUNTS_DATABASE_URL``
(``SqlDatabaseSettings``: the same setting as payments')."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shopkit.processor import ProcessorSettings
from shopkit.settings import SqlDatabaseSettings, shared


class AccountsSettings(ProcessorSettings, SqlDatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACCOUNTS_")

    service_name: str = "accounts"

    token_ttl_seconds: int = Field(900, ge=60, le=86_400)
    jwt_private_key: SecretStr | None = None  # PEM; required in production

    login_max_failures: int = Field(5, ge=1)
    login_window_seconds: int = Field(900, ge=1)
    login_lockout_seconds: int = Field(60, ge=1)
    login_lockout_max_seconds: int = Field(3600, ge=1)
    # The delay before a refused password is answered, past login_max_failures failures for
    # the email from all clients: doubling from this, up to the max (store/throttle.py).
    login_failure_delay_seconds: float = Field(0.25, ge=0)
    login_failure_delay_max_seconds: float = Field(5.0, ge=0, le=30)

    password_memory_kib: int = Field(19456, ge=19456)
    password_time_cost: int = Field(2, ge=2)
    password_parallelism: int = Field(1, ge=1)

    admin_email: str | None = shared("ADMIN_EMAIL", None)
    admin_password: SecretStr | None = shared("ADMIN_PASSWORD", None)

    @model_validator(mode="after")
    def _require_production_key(self) -> AccountsSettings:
        if self.production and self.jwt_private_key is None:
            raise ValueError("ACCOUNTS_JWT_PRIVATE_KEY (PEM) is required in production")
        return self
