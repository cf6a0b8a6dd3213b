"""The GraphQL API in-process (ASGI) over the real database: queries, pagination, entity
batching, admin mutations and their validation, and the internal stock operations."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pymongo import monitoring

from tests.items.helpers import ADMIN, CUSTOMER, GraphQL, items_settings, running_app, unique_upc
from tests.support.answers import error_code
from tests.support.documents import ITEM_ID_BY_UPC

ITEM_FIELDS = "id upc name description unitPrice { amount currency } imageUrls attributes"
CREATE = f"""mutation($input: CreateItemInput!) {{
  createItem(input: $input) {{ {ITEM_FIELDS} availability {{ available inStock }} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateItemInput!) {{
  updateItem(id: $id, input: $input) {{ {ITEM_FIELDS} }} }}"""
RESTOCK = "mutation($id: ID!, $q: Int!) { restockItem(id: $id, quantity: $q) { availability { available } } }"
DELETE = "mutation($id: ID!) { deleteItem(id: $id) }"
ITEM = (
    f"query($id: ID!) {{ item(id: $id) {{ {ITEM_FIELDS} availability {{ available inStock }} }} }}"
)
RESERVE = """mutation($orderId: ID!, $lines: [StockLineInput!]!) {
  reserveStock(orderId: $orderId, lines: $lines) {
    orderId status lines { itemId name upc quantity unitPrice { amount currency } } } }"""


class CommandCounter(monitoring.CommandListener):
    """Counts the commands sent to one database (registered for every new client)."""

    def __init__(self) -> None:
        self.database: str | None = None
        self.commands: list[tuple[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.database_name == self.database:
            self.commands.append((event.command_name, event.command.get(event.command_name)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


COUNTER = CommandCounter()


@pytest.fixture(scope="module")
async def api(mongo_url):
    monitoring.register(COUNTER)
    settings = items_settings(mongo_url)
    COUNTER.database = settings.database
    async with running_app(settings) as (app, client):
        yield app, GraphQL(client)
    COUNTER.database = None


@pytest.fixture(scope="module")
def gql(api) -> GraphQL:
    return api[1]


def item_input(**overrides: Any) -> dict[str, Any]:
    return {
        "upc": unique_upc(),
        "name": "Desk Lamp",
        "description": "Warm light.",
        "unitPrice": {"amount": 3999, "currency": "USD"},
        "imageUrls": ["https://img.example.com/lamp.jpg"],
        "attributes": {"watts": 8, "colors": ["black", "white"], "dimmable": True},
        "stock": 4,
        **overrides,
    }


async def create(gql: GraphQL, **overrides: Any) -> dict[str, Any]:
    result = await gql(CREATE, {"input": item_input(**overrides)}, token=ADMIN)
    assert "errors" not in result, result
    return result["data"]["createItem"]


async def outbox_count(api) -> int:
    return await api[0].state.db.outbox.collection.count_documents({})


async def test_admin_creates_an_item_and_anyone_reads_it(gql):
    created = await create(gql)
    assert created["availability"] == {"available": 4, "inStock": True}
    assert created["attributes"] == {"watts": 8, "colors": ["black", "white"], "dimmable": True}
    read = await gql(ITEM, {"id": created["id"]})
    assert read["data"]["item"] == created
    by_upc = await gql(ITEM_ID_BY_UPC, {"u": created["upc"]})
    assert by_upc["data"]["itemByUpc"]["id"] == created["id"]


async def test_items_connection_pages_with_cursors_and_searches(gql):
    tag = uuid.uuid4().hex[:8]
    ids = [(await create(gql, name=f"Chair {tag} {n}"))["id"] for n in range(3)]
    query = """query($after: String, $s: String) { items(first: 2, after: $after, search: $s) {
      edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }"""
    page = (await gql(query, {"s": f"CHAIR {tag}"}))["data"]["items"]
    assert [e["node"]["id"] for e in page["edges"]] == ids[:2]
    assert page["pageInfo"] == {"hasNextPage": True, "endCursor": page["edges"][1]["cursor"]}
    after = page["pageInfo"]["endCursor"]
    page = (await gql(query, {"s": f"chair {tag}", "after": after}))["data"]["items"]
    assert [e["node"]["id"] for e in page["edges"]] == ids[2:]
    assert page["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 0}, "BAD_USER_INPUT"),
        ({"first": 101}, "BAD_USER_INPUT"),
        ({"after": "garbage"}, "BAD_USER_INPUT"),
    ],
)
async def test_bad_pagination_arguments_are_refused(gql, variables, code):
    query = "query($first: Int! = 20, $after: String) { items(first: $first, after: $after) { edges { cursor } } }"
    assert error_code(await gql(query, variables)) == code


async def test_fifty_entity_references_are_resolved_with_one_query(gql):
    ids = [(await create(gql, name=f"Bulk {n}"))["id"] for n in range(50)]
    representations = [{"__typename": "Item", "id": i} for i in ids]
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Item { id name availability { inStock } } } }"""
    COUNTER.commands.clear()
    result = await gql(query, {"r": representations})
    assert [e["id"] for e in result["data"]["_entities"]] == ids
    reads = [c for c in COUNTER.commands if c[1] == "items"]
    assert len(reads) == 1, COUNTER.commands


async def test_an_unknown_entity_reference_is_null_and_a_malformed_one_an_error(gql):
    known = (await create(gql))["id"]
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Item { id } } }"
    reps = [{"__typename": "Item", "id": i} for i in (known, "0" * 24, "nope")]
    result = await gql(query, {"r": reps})
    assert result["data"]["_entities"][0] == {"id": known}
    assert result["data"]["_entities"][1:] == [None, None]
    codes = sorted(e["extensions"]["code"] for e in result["errors"])
    assert codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("field", ["name", "upc", "description", "unitPrice", "imageUrls"])
async def test_a_null_in_an_update_is_refused_naming_the_field_and_changes_nothing(gql, field):
    """Omitted keeps, null clears, and no item field can be cleared (the rule accounts'
    updateAccount follows too)."""
    item = await create(gql)
    result = await gql(UPDATE, {"id": item["id"], "input": {field: None}}, token=ADMIN)
    assert error_code(result) == "BAD_USER_INPUT"
    assert result["errors"][0]["extensions"]["field"] == field
    after = (await gql(ITEM, {"id": item["id"]}))["data"]["item"]
    assert {k: v for k, v in after.items() if k != "availability"} == {
        k: v for k, v in item.items() if k != "availability"
    }


async def test_update_changes_the_given_fields_only(gql):
    item = await create(gql)
    result = await gql(
        UPDATE,
        {
            "id": item["id"],
            "input": {"name": "Floor Lamp", "unitPrice": {"amount": 5, "currency": "EUR"}},
        },
        token=ADMIN,
    )
    updated = result["data"]["updateItem"]
    expected = {k: v for k, v in item.items() if k != "availability"}
    expected |= {"name": "Floor Lamp", "unitPrice": {"amount": 5, "currency": "EUR"}}
    assert updated == expected
    assert updated["name"] == "Floor Lamp"
    assert updated["description"] == item["description"]
    assert updated["unitPrice"] == {"amount": 5, "currency": "EUR"}


async def test_restock_and_delete(gql):
    item = await create(gql)
    restocked = await gql(RESTOCK, {"id": item["id"], "q": 6}, token=ADMIN)
    assert restocked["data"]["restockItem"]["availability"]["available"] == 10
    deleted = await gql(DELETE, {"id": item["id"]}, token=ADMIN)
    assert deleted["data"]["deleteItem"] == item["id"]
    assert await gql(ITEM, {"id": item["id"]}) == {"data": {"item": None}}
    assert error_code(await gql(RESTOCK, {"id": item["id"], "q": 1}, token=ADMIN)) == "NOT_FOUND"
    assert error_code(await gql(DELETE, {"id": item["id"]}, token=ADMIN)) == "NOT_FOUND"


@pytest.mark.parametrize(
    ("caller", "code"),
    [
        ({}, "UNAUTHENTICATED"),
        ({"token": CUSTOMER}, "FORBIDDEN"),
        ({"service": "orders"}, "UNAUTHENTICATED"),
        ({"service": "orders", "token": CUSTOMER}, "FORBIDDEN"),
    ],
)
async def test_catalog_writes_need_an_admin(api, gql, caller, code):
    item = await create(gql)
    before = await outbox_count(api)
    attempts = [
        (CREATE, {"input": item_input()}),
        (UPDATE, {"id": item["id"], "input": {"name": "Hacked"}}),
        (RESTOCK, {"id": item["id"], "q": 100}),
        (DELETE, {"id": item["id"]}),
    ]
    for query, variables in attempts:
        assert error_code(await gql(query, variables, **caller)) == code
    assert (await gql(ITEM, {"id": item["id"]}))["data"]["item"]["name"] == "Desk Lamp"
    assert await outbox_count(api) == before


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"unitPrice": {"amount": -1, "currency": "USD"}}, "BAD_USER_INPUT"),
        ({"unitPrice": {"amount": 100, "currency": "usd"}}, "BAD_USER_INPUT"),
        ({"unitPrice": {"amount": 100, "currency": "DOLLAR"}}, "BAD_USER_INPUT"),
        ({"stock": -1}, "BAD_USER_INPUT"),
        ({"name": "   "}, "BAD_USER_INPUT"),
        ({"name": "x" * 201}, "BAD_USER_INPUT"),
        ({"upc": "12ab"}, "BAD_USER_INPUT"),
        ({"imageUrls": ["javascript:alert(1)"]}, "BAD_USER_INPUT"),
        ({"attributes": [1, 2]}, "BAD_USER_INPUT"),
        ({"attributes": {"$where": "1"}}, "BAD_USER_INPUT"),
    ],
)
async def test_invalid_new_items_are_refused_and_nothing_is_written(api, gql, overrides, code):
    before = await outbox_count(api)
    payload = item_input(**overrides)
    result = await gql(CREATE, {"input": payload}, token=ADMIN)
    assert error_code(result) == code
    assert result["errors"][0]["message"]
    assert await outbox_count(api) == before
    lookup = await gql(ITEM_ID_BY_UPC, {"u": payload["upc"]})
    assert lookup["data"] == {"itemByUpc": None}


async def test_a_duplicate_upc_is_a_conflict(api, gql):
    item = await create(gql)
    before = await outbox_count(api)
    result = await gql(CREATE, {"input": item_input(upc=item["upc"], name="Copy")}, token=ADMIN)
    assert error_code(result) == "CONFLICT"
    assert await outbox_count(api) == before


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        (ITEM, {"id": "12345"}, "BAD_USER_INPUT"),
        (RESTOCK, {"id": "bad", "q": 1}, "BAD_USER_INPUT"),
        (UPDATE, {"id": "0" * 24, "input": {"name": "x"}}, "NOT_FOUND"),
        (DELETE, {"id": "zz"}, "BAD_USER_INPUT"),
    ],
)
async def test_malformed_and_unknown_ids(gql, query, variables, code):
    """A malformed id is bad input everywhere; an unknown one fails a mutation (a lookup
    answers null: test_a_missing_item_reads_as_null_by_id_and_by_upc)."""
    assert error_code(await gql(query, variables, token=ADMIN)) == code


@pytest.mark.parametrize(
    "patch",
    [
        {},
        {"name": ""},
        {"unitPrice": {"amount": -5, "currency": "USD"}},
        {"description": "d" * 5001},
    ],
)
async def test_invalid_updates_change_nothing(gql, patch):
    item = await create(gql)
    result = await gql(UPDATE, {"id": item["id"], "input": patch}, token=ADMIN)
    assert error_code(result) == "BAD_USER_INPUT"
    read = (await gql(ITEM, {"id": item["id"]}))["data"]["item"]
    assert {k: read[k] for k in item if k != "availability"} == {
        k: item[k] for k in item if k != "availability"
    }


@pytest.mark.parametrize("quantity", [0, -1])
async def test_restock_needs_a_positive_quantity(gql, quantity):
    item = await create(gql)
    result = await gql(RESTOCK, {"id": item["id"], "q": quantity}, token=ADMIN)
    assert error_code(result) == "BAD_USER_INPUT"
    read = (await gql(ITEM, {"id": item["id"]}))["data"]["item"]
    assert read["availability"]["available"] == 4


async def test_reserve_stock_answers_lines_for_a_service(gql):
    item = await create(gql, name="Kettle")
    result = await gql(
        RESERVE,
        {
            "orderId": "order-1",
            "lines": [{"itemId": item["id"], "quantity": 1}, {"itemId": item["id"], "quantity": 2}],
        },
        service="orders",
    )
    reservation = result["data"]["reserveStock"]
    assert reservation["status"] == "HELD"
    assert reservation["lines"] == [
        {
            "itemId": item["id"],
            "name": "Kettle",
            "upc": item["upc"],
            "quantity": 3,
            "unitPrice": item["unitPrice"],
        }
    ]
    read = (await gql(ITEM, {"id": item["id"]}))["data"]["item"]
    assert read["availability"] == {"available": 1, "inStock": True}
    released = await gql(
        'mutation { releaseStock(orderId: "order-1") { status } }', service="orders"
    )
    assert released["data"]["releaseStock"]["status"] == "RELEASED"
    committed = await gql(
        'mutation { commitStock(orderId: "order-1") { status } }', service="orders"
    )
    assert error_code(committed) == "CONFLICT"


async def test_not_enough_stock_reports_the_item_and_what_is_available(gql):
    item = await create(gql, name="Rare Vase", stock=1)
    result = await gql(
        RESERVE,
        {"orderId": "order-2", "lines": [{"itemId": item["id"], "quantity": 2}]},
        service="orders",
    )
    error = result["errors"][0]
    assert error["message"] == "Only 1 of Rare Vase available."
    assert error["extensions"] == {"code": "CONFLICT", "itemId": item["id"], "available": 1}


@pytest.mark.parametrize("caller", [{}, {"token": ADMIN}, {"token": CUSTOMER}])
async def test_stock_operations_are_refused_without_a_service_credential(gql, caller):
    item = await create(gql)
    result = await gql(
        RESERVE, {"orderId": "order-3", "lines": [{"itemId": item["id"], "quantity": 1}]}, **caller
    )
    assert error_code(result) == "FORBIDDEN"
    for op in ("releaseStock", "commitStock"):
        assert (
            error_code(await gql(f'mutation {{ {op}(orderId: "order-3") {{ status }} }}', **caller))
            == "FORBIDDEN"
        )
    read = (await gql(ITEM, {"id": item["id"]}))["data"]["item"]
    assert read["availability"]["available"] == 4


def test_internal_operations_are_inaccessible_in_the_sdl():
    from subgraphs.items.graphql.schema import schema

    sdl = schema.as_str()
    for op in ("reserveStock", "releaseStock", "commitStock"):
        line = next(line for line in sdl.splitlines() if line.strip().startswith(f"{op}("))
        assert line.endswith("@inaccessible")


async def test_a_missing_item_reads_as_null_by_id_and_by_upc(gql):
    missing = await gql(ITEM, {"id": "0" * 24})
    assert missing == {"data": {"item": None}}
    by_upc = await gql(ITEM_ID_BY_UPC, {"u": "000000000000"})
    assert by_upc == {"data": {"itemByUpc": None}}
