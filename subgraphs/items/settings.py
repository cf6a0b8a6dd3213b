"""The items service's settings: the shared ``SHOP_*`` ones plus its own ``ITEMS_*``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shopkit.settings import ServiceSettings


class ItemsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ITEMS_")

    service_name: str = "items"
    mongo_url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    database: str = "shop_items"
    seed_demo_catalog: bool = False
    # A held reservation is asked about (does its order exist, has it ended?) once it is this
    # old, and again this long after each answer that keeps it: longer than any createOrder
    # or updateOrder takes, so a hold whose order is still being written is never released.
    hold_grace_seconds: float = Field(600.0, gt=0)
    # How often the sweep repairs stock changes cut short by a crash and reviews held stock.
    sweep_interval_seconds: float = Field(30.0, gt=0)
