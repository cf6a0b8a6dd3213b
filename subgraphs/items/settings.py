"""The items service's settings: the shared ``SHOP_*`` ones plus its own ``ITEMS_*``."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shopkit.settings import ServiceSettings


class ItemsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ITEMS_", extra="ignore", populate_by_name=True)

    service_name: str = "items"
    mongo_url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    database: str = "shop_items"
    seed_demo_catalog: bool = False
