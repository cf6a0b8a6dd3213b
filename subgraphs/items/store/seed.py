"""The demo catalog inserted at start-up when ``ITEMS_SEED_DEMO_CATALOG`` is on and the
catalog is empty (``make up``): each entry holds ``ItemService.create``'s fields, and goes
through ``ItemService.seed`` like any new item."""

from __future__ import annotations

from typing import Any

_IMG = "https://images.example.com/demo"

DEMO_CATALOG: list[dict[str, Any]] = [
    {
        "upc": "012345678905",
        "name": "Classic Cotton T-Shirt",
        "description": "A soft, breathable crew-neck tee in organic cotton.",
        "price_amount": 1999,
        "price_currency": "USD",
        "image_urls": [f"{_IMG}/tshirt.jpg"],
        "attributes": {"color": "navy", "sizes": ["S", "M", "L", "XL"], "material": "cotton"},
        "stock": 120,
    },
    {
        "upc": "036000291452",
        "name": "Stainless Steel Water Bottle",
        "description": "750 ml, double-walled, keeps drinks cold for 24 hours.",
        "price_amount": 2499,
        "price_currency": "USD",
        "image_urls": [f"{_IMG}/bottle.jpg"],
        "attributes": {"capacityMl": 750, "insulated": True},
        "stock": 80,
    },
    {
        "upc": "042100005264",
        "name": "Wireless Earbuds",
        "description": "Bluetooth 5.3 earbuds with a charging case and 30 hours of play.",
        "price_amount": 7999,
        "price_currency": "USD",
        "image_urls": [f"{_IMG}/earbuds.jpg", f"{_IMG}/earbuds-case.jpg"],
        "attributes": {"batteryHours": 30, "bluetooth": "5.3", "colors": ["black", "white"]},
        "stock": 45,
    },
    {
        "upc": "073854008089",
        "name": "Ceramic Coffee Mug",
        "description": "A 350 ml stoneware mug, dishwasher safe.",
        "price_amount": 1250,
        "price_currency": "USD",
        "image_urls": [f"{_IMG}/mug.jpg"],
        "attributes": {"capacityMl": 350, "dishwasherSafe": True},
        "stock": 200,
    },
    {
        "upc": "4006381333931",
        "name": "Mechanical Pencil Set",
        "description": "Three 0.5 mm pencils with spare leads and erasers.",
        "price_amount": 899,
        "price_currency": "EUR",
        "image_urls": [f"{_IMG}/pencils.jpg"],
        "attributes": {"leadMm": 0.5, "count": 3},
        "stock": 150,
    },
    {
        "upc": "5012345678900",
        "name": "Running Shoes",
        "description": "Lightweight road running shoes with a cushioned sole.",
        "price_amount": 11900,
        "price_currency": "EUR",
        "image_urls": [f"{_IMG}/shoes.jpg"],
        "attributes": {"sizesEu": [39, 40, 41, 42, 43, 44], "dropMm": 8},
        "stock": 30,
    },
    {
        "upc": "9780306406157",
        "name": "The Pragmatic Cookbook",
        "description": "Hardcover, 320 pages of weeknight recipes.",
        "price_amount": 3400,
        "price_currency": "GBP",
        "image_urls": [f"{_IMG}/cookbook.jpg"],
        "attributes": {"pages": 320, "format": "hardcover", "isbn13": "9780306406157"},
        "stock": 25,
    },
    {
        "upc": "00012345600012",
        "name": "Limited Edition Poster",
        "description": "A signed 50x70 cm art print; only a few left.",
        "price_amount": 4500,
        "price_currency": "USD",
        "image_urls": [f"{_IMG}/poster.jpg"],
        "attributes": {"widthCm": 50, "heightCm": 70, "signed": True},
        "stock": 3,
    },
]
