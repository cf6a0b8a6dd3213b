"""The benchmark's in-process ceiling (bench/ceiling.py, phase 1) runs on the items schema as it
is: the kit's paging had replaced the items service's page type, and the ceiling failed to
import until this test ran it."""

from __future__ import annotations

from bench.ceiling import items_of, measure

QUERY = (
    "query Catalog { items(first: 2) { edges { cursor node { id upc name description "
    "unitPrice { amount currency } imageUrls attributes availability { available inStock } } } "
    "pageInfo { hasNextPage endCursor } } }"
)


def _answer(count: int) -> dict:
    return {
        "data": {
            "items": {
                "edges": [
                    {
                        "node": {
                            "id": f"{n:024x}",
                            "upc": f"0{n:011d}",
                            "name": f"Item {n}",
                            "description": "",
                            "unitPrice": {"amount": 100, "currency": "USD"},
                            "imageUrls": [],
                            "attributes": {},
                            "availability": {"available": n, "inStock": n > 0},
                        }
                    }
                    for n in range(1, count + 1)
                ]
            }
        }
    }


async def test_the_ceiling_serves_the_subgraphs_catalogue_query_from_memory() -> None:
    items = items_of(_answer(3))
    assert [item.available for item in items] == [1, 2, 3]
    assert await measure(QUERY, items, 0.05) > 0  # SystemExit if the schema refused it
