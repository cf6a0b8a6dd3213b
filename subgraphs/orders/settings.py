"""Settings of the orders service (``ORDERS_*`` variables, plus the shared ``SHOP_*``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shopkit.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERS_", extra="ignore", populate_by_name=True)

    service_name: str = "orders"
    cql_hosts: str = "127.0.0.1"
    cql_port: Annotated[int, Field(ge=1, le=65535)] = 9042
    keyspace: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")] = "shop_orders"
    payment_window_seconds: Annotated[float, Field(gt=0)] = 1800
    expiry_sweep_seconds: Annotated[float, Field(gt=0)] = 60
