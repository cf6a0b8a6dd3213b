"""The request context every resolver reads (``strawberry.Info[ItemsContext]``)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from shopkit.auth import Identity
from shopkit.graphql import RequestContext
from subgraphs.items.graphql.loaders import Loaders, build_loaders
from subgraphs.items.service.inventory import InventoryService
from subgraphs.items.service.items import ItemService


@dataclass
class ItemsContext(RequestContext):
    items: ItemService
    inventory: InventoryService
    loaders: Loaders


def build_context(request: Request, response: Response | None, identity: Identity) -> ItemsContext:
    state = request.app.state
    return ItemsContext.for_request(
        request,
        response,
        identity,
        items=state.items,
        inventory=state.inventory,
        loaders=build_loaders(state.items),
    )
