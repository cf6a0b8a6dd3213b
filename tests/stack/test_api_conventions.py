"""The GraphQL conventions of docs/api-conventions.md, checked over the composed public API
schema that the code would serve now (``public_sdl_from_code``): a subgraph that breaks one
makes this fail, naming the field."""

from __future__ import annotations

import pytest
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    get_named_type,
)

from stack.schema import public_sdl_from_code

# Lists that cannot grow past a bound the domain enforces: they stay plain lists.
BOUNDED_LISTS = {
    "Order.lines": "at most 100 lines (shopkit/order_lines.py)",
    "Account.paymentMethods": "a customer's saved cards, a handful",
    "Item.imageUrls": "an item's pictures, bounded by the item rule",
}


@pytest.fixture(scope="module")
def api() -> GraphQLSchema:
    return build_schema(public_sdl_from_code())


def object_types(schema: GraphQLSchema) -> list[GraphQLObjectType]:
    return [
        t
        for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
    ]


def is_list(field_type) -> bool:
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return isinstance(inner, GraphQLList)


def connection_violations(schema: GraphQLSchema) -> list[str]:
    """Every list field that can grow is a connection of the kit's shape; every connection
    field takes ``first`` and ``after``."""
    found = []
    for owner in object_types(schema):
        if owner.name.endswith(("Connection", "Edge")):
            continue
        for name, field in owner.fields.items():
            where = f"{owner.name}.{name}"
            named = get_named_type(field.type)
            if is_list(field.type) and where not in BOUNDED_LISTS:
                found.append(f"{where} is a plain list, not a connection")
            if named.name.endswith("Connection"):
                if set(field.args) < {"first", "after"}:
                    found.append(f"{where} lacks first/after")
                found += shape_violations(schema, named.name)
    return found


def shape_violations(schema: GraphQLSchema, connection: str) -> list[str]:
    conn = schema.type_map[connection]
    assert isinstance(conn, GraphQLObjectType)
    problems = []
    if set(conn.fields) != {"edges", "pageInfo"}:
        problems.append(f"{connection} has fields {sorted(conn.fields)}, not edges and pageInfo")
        return problems
    if get_named_type(conn.fields["pageInfo"].type).name != "PageInfo":
        problems.append(f"{connection}.pageInfo is not the kit's PageInfo")
    edge = get_named_type(conn.fields["edges"].type)
    assert isinstance(edge, GraphQLObjectType)
    if set(edge.fields) != {"cursor", "node"}:
        problems.append(f"{edge.name} has fields {sorted(edge.fields)}, not cursor and node")
    return problems


def test_every_list_that_can_grow_is_a_connection_of_one_shape(api):
    assert connection_violations(api) == []
    page_info = api.type_map["PageInfo"]
    assert isinstance(page_info, GraphQLObjectType)
    assert set(page_info.fields) == {"hasNextPage", "endCursor"}


def test_a_plain_list_or_a_connection_of_another_shape_is_caught():
    """The check itself fails on the three shapes issue 13 found in the supergraph."""
    broken = build_schema(
        """
        type PageInfo { hasNextPage: Boolean!, endCursor: String }
        type Payment { id: ID! }
        type Order { id: ID! }
        type OrderConnection { nodes: [Order!]!, endCursor: String, hasNextPage: Boolean! }
        type Query {
          paymentsForOrder(orderId: ID!): [Payment!]!
          myOrders(first: Int): OrderConnection!
        }
        """
    )
    assert connection_violations(broken) == [
        "Query.paymentsForOrder is a plain list, not a connection",
        "Query.myOrders lacks first/after",
        "OrderConnection has fields ['endCursor', 'hasNextPage', 'nodes'], not edges and pageInfo",
    ]


SINGLE_LOOKUPS = ["item", "itemByUpc", "order", "payment", "account", "me"]


@pytest.mark.parametrize("field", SINGLE_LOOKUPS)
def test_single_lookups_are_nullable_so_not_found_is_null(api, field):
    assert not isinstance(api.query_type.fields[field].type, GraphQLNonNull)


def test_an_order_line_keeps_its_snapshot_and_its_item_may_be_gone(api):
    line = api.type_map["OrderLine"]
    assert isinstance(line, GraphQLObjectType)
    assert not isinstance(line.fields["item"].type, GraphQLNonNull)
    assert {"name", "upc", "unitPrice", "quantity", "lineTotal"} <= set(line.fields)
