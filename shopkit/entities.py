"""One rule for finding an entity by id in every subgraph's GraphQL: through the request's
DataLoader, so that all the lookups of one request are batched into one, and null when there
is none or the caller may not see it (each loader answers None then), never an error.

The by-id queries (``item(id)``, ``order(id)``, ``account(id)``) and federation's
``resolve_reference`` of the same types use it, so a client and the gateway see a missing
entity alike, in every service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from strawberry.dataloader import DataLoader

Found = TypeVar("Found")
Shown = TypeVar("Shown")


async def entity_or_none(
    loader: DataLoader[str, Found | None], id: str, show: Callable[[Found], Shown]
) -> Shown | None:
    """The entity ``id`` as ``show`` makes it (its GraphQL type), or None."""
    found = await loader.load(str(id))
    return None if found is None else show(found)
