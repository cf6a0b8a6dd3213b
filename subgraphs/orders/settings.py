"""Settings of the orders service (``ORDERS_*`` variables, plus the shared ``SHOP_*``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shopkit.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERS_")

    service_name: str = "orders"
    cql_hosts: str = "127.0.0.1"
    cql_port: Annotated[int, Field(ge=1, le=65535)] = 9042
    keyspace: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")] = "shop_orders"
    payment_window_seconds: Annotated[float, Field(gt=0)] = 1800
    expiry_sweep_seconds: Annotated[float, Field(gt=0)] = 60
    # An unpaid order older than this is checked with payments by each sweep (a payment
    # event normally arrives within a second; this is for events that were lost).
    reconcile_after_seconds: Annotated[float, Field(ge=0)] = 60
    # How long a createOrder holds its idempotency key if no order gets stored under it.
    idempotency_lease_seconds: Annotated[float, Field(gt=0)] = 60
    # Live subscriptions (orderStatusChanged) one orders process serves, in all and per
    # account; past either, a new one is refused with RATE_LIMITED.
    subscriptions_max_total: Annotated[int, Field(ge=1)] = 10_000
    subscriptions_max_per_account: Annotated[int, Field(ge=1)] = 100
