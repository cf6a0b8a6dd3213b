"""Settings of the orders service (``ORDERS_*`` variables, plus the shared ``SHOP_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shopkit.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERS_", extra="ignore", populate_by_name=True)

    service_name: str = "orders"
    cql_hosts: str = "127.0.0.1"
    cql_port: int = Field(9042, ge=1, le=65535)
    keyspace: str = Field("shop_orders", pattern=r"^[a-z][a-z0-9_]{0,47}$")
    payment_window_seconds: float = Field(1800, gt=0)
    expiry_sweep_seconds: float = Field(60, gt=0)
