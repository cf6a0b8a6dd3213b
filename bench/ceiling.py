"""Strawberry's in-process ceiling for ``items(first: 20)``: the items subgraph's own schema
executed in a loop on one core, with in-memory data and the parser and validation caches on.
No HTTP, no database, no authentication: what Strawberry itself can do for this operation, the
figure the subgraph's throughput is divided by (README, Performance).

``python -m bench.ceiling RESPONSE.json --seconds 5`` prints ``{"ops_per_second": ...}``;
RESPONSE.json is the subgraph's answer to the same operation, from which the in-memory items
are built (so both execute on the same data).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from strawberry.extensions import ParserCache, ValidationCache

from shopkit.auth import Identity
from shopkit.graphql import ShopSchema
from shopkit.paging import Page, decode_cursor, encode_cursor, page_of
from subgraphs.items.domain.model import Item, Money
from subgraphs.items.graphql.context import ItemsContext
from subgraphs.items.graphql.loaders import build_loaders
from subgraphs.items.graphql.mutations import Mutation
from subgraphs.items.graphql.queries import Query
from subgraphs.items.graphql.types import Item as ItemType
from subgraphs.items.service.items import CURSOR_KIND


class InMemoryItems:
    """The part of ``ItemService`` that ``items`` and ``item`` call, on a list in memory."""

    def __init__(self, items: list[Item]) -> None:
        self.items = sorted(items, key=lambda item: item.id)

    async def list(
        self, *, first: int = 20, after: str | None = None, search: str | None = None
    ) -> Page[Item]:
        start = decode_cursor(CURSOR_KIND, after) if after else ""
        nodes = [item for item in self.items if item.id > start][: first + 1]
        return page_of(nodes, first=first, cursor_of=lambda i: encode_cursor(CURSOR_KIND, i.id))

    async def get_many(self, ids: Sequence[str]) -> Sequence[Item]:
        by_id = {item.id: item for item in self.items}
        return [by_id[item_id] for item_id in ids]


def items_of(response: dict[str, Any]) -> list[Item]:
    return [
        Item(
            id=node["id"],
            upc=node["upc"],
            name=node["name"],
            description=node["description"],
            unit_price=Money(node["unitPrice"]["amount"], node["unitPrice"]["currency"]),
            image_urls=node["imageUrls"],
            attributes=node["attributes"],
            available=node["availability"]["available"],
        )
        for node in (edge["node"] for edge in response["data"]["items"]["edges"])
    ]


def cached_schema() -> ShopSchema:
    """The items schema with the parser and validation caches on (added unless the kit's
    schema has them already)."""
    schema = ShopSchema(query=Query, mutation=Mutation, types=[ItemType])
    extra = [
        cache
        for cache in (ParserCache, ValidationCache)
        if not any(getattr(e, "func", e) is cache for e in schema.extensions)
    ]
    if extra:
        schema = ShopSchema(query=Query, mutation=Mutation, types=[ItemType], extensions=extra)
    return schema


async def measure(query: str, items: list[Item], seconds: float) -> float:
    schema = cached_schema()
    service = InMemoryItems(items)

    def context() -> ItemsContext:
        return ItemsContext(
            request=None,  # type: ignore[arg-type]
            response=None,
            identity=Identity(),
            settings=None,  # type: ignore[arg-type]
            items=service,  # type: ignore[arg-type]
            inventory=None,  # type: ignore[arg-type]
            loaders=build_loaders(service),  # type: ignore[arg-type]
        )

    first = await schema.execute(query, context_value=context())
    if first.errors:
        raise SystemExit(f"the ceiling's schema refused the query: {first.errors}")
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(20):
            await schema.execute(query, context_value=context())
        done += 20
    return done / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling")
    parser.add_argument("response", type=Path, help="the subgraph's JSON answer to the query")
    parser.add_argument("--query", required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    items = items_of(json.loads(args.response.read_text()))
    ops = asyncio.run(measure(args.query, items, args.seconds))
    print(json.dumps({"ops_per_second": ops}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
