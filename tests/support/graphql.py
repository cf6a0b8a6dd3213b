"""What every client of the shop's GraphQL API sends, for the clients that drive the whole
stack through the gateway: the e2e suite's (tests/e2e/client.py) and the benchmark's
(bench/shop.py). One place, so that both send what a frontend sends."""

from __future__ import annotations

import uuid
from typing import Any


def graphql_post(
    query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    """The keyword arguments of an httpx ``post`` of one operation: the query and its
    variables as JSON, and the bearer token, if there is one."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return {"json": {"query": query, "variables": variables or {}}, "headers": headers}


def teapot_input(
    stock: int, price: int = 1250, name: str = "Teapot", description: str = "Cast iron."
) -> dict[str, Any]:
    """A ``CreateItemInput`` of a new teapot: ``stock`` units at ``price`` cents, under a
    random UPC and a name made unique by a random suffix (tests and runs never collide)."""
    return {
        "upc": f"0{uuid.uuid4().int % 10**11:011d}",
        "name": f"{name} {uuid.uuid4().hex[:6]}",
        "description": description,
        "unitPrice": {"amount": price, "currency": "USD"},
        "imageUrls": ["https://img.example/teapot.png"],
        "attributes": {"color": "black", "litres": 1.2},
        "stock": stock,
    }
