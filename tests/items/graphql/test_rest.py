"""The REST API over the same services: status codes, JSON shapes and admin-only writes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.items.helpers import ADMIN, CUSTOMER, items_settings, running_app, unique_upc
from tests.support.documents import ITEM_ID_BY_UPC

AS_ADMIN = {"authorization": f"Bearer {ADMIN}"}


@pytest.fixture(scope="module")
async def client(mongo_url):
    async with running_app(items_settings(mongo_url)) as (_, http):
        yield http


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "upc": unique_upc(),
        "name": "Notebook",
        "description": "A5, dotted.",
        "unitPrice": {"amount": 650, "currency": "EUR"},
        "imageUrls": [],
        "attributes": {"pages": 120},
        "stock": 2,
        **overrides,
    }


async def test_create_read_update_and_delete_an_item(client):
    created = await client.post("/api/items", json=body(), headers=AS_ADMIN)
    assert created.status_code == 201
    item = created.json()
    assert item["availability"] == {"available": 2, "inStock": True}
    read = await client.get(f"/api/items/{item['id']}")
    assert (read.status_code, read.json()) == (200, item)
    updated = await client.put(
        f"/api/items/{item['id']}", json={"name": "Journal"}, headers=AS_ADMIN
    )
    assert (updated.status_code, updated.json()["name"]) == (200, "Journal")
    availability = await client.get(f"/api/items/{item['id']}/availability")
    assert availability.json() == {"available": 2, "inStock": True}
    deleted = await client.delete(f"/api/items/{item['id']}", headers=AS_ADMIN)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/items/{item['id']}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "NOT_FOUND"


async def test_listing_pages_and_searches(client):
    tag = unique_upc()
    for n in range(3):
        await client.post("/api/items", json=body(name=f"Pen {tag} {n}"), headers=AS_ADMIN)
    page = (await client.get("/api/items", params={"first": 2, "search": f"pen {tag}"})).json()
    assert [i["name"] for i in page["items"]] == [f"Pen {tag} 0", f"Pen {tag} 1"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await client.get(
        "/api/items", params={"search": f"pen {tag}", "after": page["pageInfo"]["endCursor"]}
    )
    assert [i["name"] for i in rest.json()["items"]] == [f"Pen {tag} 2"]


async def test_duplicate_upc_is_409(client):
    first = await client.post("/api/items", json=body(), headers=AS_ADMIN)
    again = await client.post("/api/items", json=body(upc=first.json()["upc"]), headers=AS_ADMIN)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "CONFLICT"


@pytest.mark.parametrize(
    "payload",
    [
        body(unitPrice={"amount": -1, "currency": "EUR"}),
        body(unitPrice={"amount": 1, "currency": "eur"}),
        body(stock=-2),
        body(name=""),
        body(name=5),
        body(stock="many"),
        body(extra=True),
        [1, 2],
    ],
)
async def test_bad_input_is_422_and_creates_nothing(client, payload):
    response = await client.post("/api/items", json=payload, headers=AS_ADMIN)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "BAD_USER_INPUT"
    if isinstance(payload, dict):
        lookup = await client.post(
            "/graphql",
            json={
                "query": ITEM_ID_BY_UPC,
                "variables": {"u": payload["upc"]},
            },
        )
        assert lookup.json()["data"] == {"itemByUpc": None}


async def test_a_body_that_is_not_json_is_422(client):
    response = await client.post(
        "/api/items", content=b"{nope", headers={**AS_ADMIN, "content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_malformed_and_unknown_ids(client):
    assert (await client.get("/api/items/xyz")).status_code == 422
    assert (await client.get(f"/api/items/{'0' * 24}")).status_code == 404
    assert (await client.delete(f"/api/items/{'0' * 24}", headers=AS_ADMIN)).status_code == 404


@pytest.mark.parametrize(
    ("headers", "status"), [({}, 401), ({"authorization": f"Bearer {CUSTOMER}"}, 403)]
)
async def test_writes_need_an_admin_token(client, headers, status):
    item = (await client.post("/api/items", json=body(), headers=AS_ADMIN)).json()
    responses = [
        await client.post("/api/items", json=body(), headers=headers),
        await client.put(f"/api/items/{item['id']}", json={"name": "X"}, headers=headers),
        await client.delete(f"/api/items/{item['id']}", headers=headers),
    ]
    assert [r.status_code for r in responses] == [status] * 3
    assert (await client.get(f"/api/items/{item['id']}")).json()["name"] == "Notebook"


async def test_requests_without_the_gateway_secret_are_refused(client):
    response = await client.get("/api/items", headers={"x-gateway-secret": "wrong"})
    assert response.status_code == 403
