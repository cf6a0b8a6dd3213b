"""Items, prices and stock counters, with the rules every input must pass.

Each ``check_*`` function returns the normalised value or raises ``InvalidInput`` naming the
field, so a bad input is refused before anything is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Required, TypedDict, Unpack

from shopkit.errors import InvalidInput
from shopkit.money import Money

NAME_MAX = 200
DESCRIPTION_MAX = 5000
IMAGE_URLS_MAX = 20
URL_MAX = 2048
ATTRIBUTES_MAX_BYTES = 16_384
STOCK_MAX = 1_000_000_000
PRICE_MAX = 1_000_000_000
RESTOCK_MAX = 1_000_000

_ITEM_ID = re.compile(r"^[0-9a-fA-F]{24}$")
_UPC = re.compile(r"^[0-9]{8,14}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Item:
    id: str
    upc: str
    name: str
    description: str
    unit_price: Money
    image_urls: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    available: int = 0
    reserved: int = 0

    @property
    def in_stock(self) -> bool:
        return self.available > 0


@dataclass(frozen=True)
class NewItem:
    """A validated item to create (``stock`` is the initial available quantity)."""

    upc: str
    name: str
    description: str
    unit_price: Money
    image_urls: list[str]
    attributes: dict[str, Any]
    stock: int


@dataclass(frozen=True)
class ItemChanges:
    """A validated partial update: only the fields that are not ``None`` change."""

    upc: str | None = None
    name: str | None = None
    description: str | None = None
    unit_price: Money | None = None
    image_urls: list[str] | None = None
    attributes: dict[str, Any] | None = None

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def check_item_id(value: str, field_name: str = "id") -> str:
    if not isinstance(value, str) or not _ITEM_ID.match(value):
        raise InvalidInput(f"{value!r} is not a valid item id.", field=field_name)
    return value.lower()


def check_upc(value: str) -> str:
    value = (value or "").strip()
    if not _UPC.match(value):
        raise InvalidInput("The UPC must be 8 to 14 digits.", field="upc")
    return value


def check_name(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput("The name must not be empty.", field="name")
    if len(value) > NAME_MAX:
        raise InvalidInput(f"The name must be at most {NAME_MAX} characters.", field="name")
    return value


def check_description(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"The description must be at most {DESCRIPTION_MAX} characters.", field="description"
        )
    return value


def check_money(amount: int, currency: str, field_name: str = "unitPrice") -> Money:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise InvalidInput("The price must be a non-negative integer.", field=field_name)
    if amount > PRICE_MAX:
        raise InvalidInput(f"The price must be at most {PRICE_MAX}.", field=field_name)
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise InvalidInput(
            "The currency must be an ISO 4217 code of 3 uppercase letters.", field=field_name
        )
    return Money(amount, currency)


def check_image_urls(urls: Sequence[str] | None) -> list[str]:
    urls = list(urls or [])
    if len(urls) > IMAGE_URLS_MAX:
        raise InvalidInput(f"At most {IMAGE_URLS_MAX} image URLs.", field="imageUrls")
    for url in urls:
        if not isinstance(url, str) or len(url) > URL_MAX or not _URL.match(url):
            raise InvalidInput(f"{url!r} is not an http(s) URL.", field="imageUrls")
    return urls


def _check_keys(value: Any) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if not isinstance(key, str) or not key or key.startswith("$") or "." in key:
                raise InvalidInput(
                    f"Attribute name {key!r} is not allowed (empty, '$' prefix or '.').",
                    field="attributes",
                )
            _check_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            _check_keys(inner)


def check_attributes(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("The attributes must be a JSON object.", field="attributes")
    try:
        size = len(json.dumps(value, allow_nan=False).encode())
    except (TypeError, ValueError):
        raise InvalidInput("The attributes must be plain JSON.", field="attributes") from None
    if size > ATTRIBUTES_MAX_BYTES:
        raise InvalidInput(
            f"The attributes must be at most {ATTRIBUTES_MAX_BYTES} bytes of JSON.",
            field="attributes",
        )
    _check_keys(value)
    return value


def check_stock(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("The stock must be a non-negative integer.", field="stock")
    if value > STOCK_MAX:
        raise InvalidInput(f"The stock must be at most {STOCK_MAX}.", field="stock")
    return value


def check_restock_quantity(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput("The quantity to restock must be positive.", field="quantity")
    if value > RESTOCK_MAX:
        raise InvalidInput(f"At most {RESTOCK_MAX} units per restock.", field="quantity")
    return value


class ItemFields(TypedDict, total=False):
    """A new item's fields as a caller gives them, before ``new_item`` checks them. Declared
    once: the service's ``create`` takes them as keywords (``Unpack``) and passes them on."""

    upc: Required[str]
    name: Required[str]
    price_amount: Required[int]
    price_currency: Required[str]
    description: str | None
    image_urls: Sequence[str] | None
    attributes: Any
    stock: int


class ItemChangeFields(TypedDict, total=False):
    """The fields an update may give (None or omitted: unchanged), before ``item_changes``
    checks them; the service's ``update`` takes them as keywords and passes them on."""

    upc: str | None
    name: str | None
    description: str | None
    price: tuple[int, str] | None
    image_urls: Sequence[str] | None
    attributes: Any


def new_item(**fields: Unpack[ItemFields]) -> NewItem:
    return NewItem(
        upc=check_upc(fields["upc"]),
        name=check_name(fields["name"]),
        description=check_description(fields.get("description")),
        unit_price=check_money(fields["price_amount"], fields["price_currency"]),
        image_urls=check_image_urls(fields.get("image_urls")),
        attributes=check_attributes(fields.get("attributes")),
        stock=check_stock(fields.get("stock", 0)),
    )


def item_changes(**given: Unpack[ItemChangeFields]) -> ItemChanges:
    upc, name, description = given.get("upc"), given.get("name"), given.get("description")
    price, urls, attributes = given.get("price"), given.get("image_urls"), given.get("attributes")
    changes = ItemChanges(
        upc=None if upc is None else check_upc(upc),
        name=None if name is None else check_name(name),
        description=None if description is None else check_description(description),
        unit_price=None if price is None else check_money(*price),
        image_urls=None if urls is None else check_image_urls(urls),
        attributes=None if attributes is None else check_attributes(attributes),
    )
    if not changes.fields():
        raise InvalidInput("Nothing to update.")
    return changes
