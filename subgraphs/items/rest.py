"""The REST API (``/api/items``): a thin JSON layer over the same services as GraphQL.

Reads are public; writes need an ADMIN access token (401 without one, 403 otherwise), which
``ItemService`` checks, as for GraphQL. A body that is not a JSON object of the right fields
and types is refused first (422), as GraphQL refuses a malformed request before any resolver
runs. A ``ShopError`` raised here becomes ``{"error": {...}}`` with its status (404, 409, 422).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shopkit.auth import Identity
from shopkit.errors import InvalidInput
from subgraphs.items.domain.model import Item
from subgraphs.items.service.items import ItemService

_TYPES: dict[str, tuple[type, ...]] = {
    "upc": (str,),
    "name": (str,),
    "description": (str,),
    "unitPrice": (dict,),
    "imageUrls": (list,),
    "attributes": (dict,),
    "stock": (int,),
}


def item_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "upc": item.upc,
        "name": item.name,
        "description": item.description,
        "unitPrice": {"amount": item.unit_price.amount, "currency": item.unit_price.currency},
        "imageUrls": item.image_urls,
        "attributes": item.attributes,
        "availability": {"available": item.available, "inStock": item.in_stock},
    }


def _service(request: Request) -> ItemService:
    return request.app.state.items


def _caller(request: Request) -> Identity:
    identity: Identity = request.state.identity
    return identity


async def _body(request: Request, allowed: set[str]) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise InvalidInput("The body must be JSON.") from None
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(unknown)}.", fields=unknown)
    for name, value in body.items():
        kinds = _TYPES[name]
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            raise InvalidInput(f"'{name}' has the wrong type.", field=name)
    return body


def _price(body: dict[str, Any]) -> tuple[Any, Any] | None:
    price = body.get("unitPrice")
    if price is None:
        return None
    return price.get("amount"), price.get("currency")


async def list_items(request: Request) -> JSONResponse:
    params = request.query_params
    try:
        first = int(params.get("first", "20"))
    except ValueError:
        raise InvalidInput("'first' must be an integer.", field="first") from None
    page = await _service(request).list(
        first=first, after=params.get("after"), search=params.get("search")
    )
    return JSONResponse(
        {
            "items": [item_json(item) for item in page.nodes],
            "pageInfo": {"hasNextPage": page.has_next_page, "endCursor": page.end_cursor},
        }
    )


async def create_item(request: Request) -> JSONResponse:
    body = await _body(request, set(_TYPES))
    if "upc" not in body or "name" not in body or "unitPrice" not in body:
        raise InvalidInput("'upc', 'name' and 'unitPrice' are required.")
    price: tuple[Any, Any] = _price(body) or (None, None)
    amount, currency = price
    item = await _service(request).create(
        _caller(request),
        upc=body["upc"],
        name=body["name"],
        description=body.get("description"),
        price_amount=amount,
        price_currency=currency,
        image_urls=body.get("imageUrls"),
        attributes=body.get("attributes"),
        stock=body.get("stock", 0),
    )
    return JSONResponse(item_json(item), status_code=201)


async def get_item(request: Request) -> JSONResponse:
    item = await _service(request).get(request.path_params["item_id"])
    return JSONResponse(item_json(item))


async def update_item(request: Request) -> JSONResponse:
    body = await _body(request, set(_TYPES) - {"stock"})
    item = await _service(request).update(
        _caller(request),
        request.path_params["item_id"],
        upc=body.get("upc"),
        name=body.get("name"),
        description=body.get("description"),
        price=_price(body),
        image_urls=body.get("imageUrls"),
        attributes=body.get("attributes"),
    )
    return JSONResponse(item_json(item))


async def delete_item(request: Request) -> Response:
    await _service(request).delete(_caller(request), request.path_params["item_id"])
    return Response(status_code=204)


async def item_availability(request: Request) -> JSONResponse:
    item = await _service(request).get(request.path_params["item_id"])
    return JSONResponse({"available": item.available, "inStock": item.in_stock})


routes = [
    Route("/api/items", list_items, methods=["GET"]),
    Route("/api/items", create_item, methods=["POST"]),
    Route("/api/items/{item_id}", get_item, methods=["GET"]),
    Route("/api/items/{item_id}", update_item, methods=["PUT"]),
    Route("/api/items/{item_id}", delete_item, methods=["DELETE"]),
    Route("/api/items/{item_id}/availability", item_availability, methods=["GET"]),
]
