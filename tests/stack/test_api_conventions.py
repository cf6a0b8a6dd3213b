"""The GraphQL conventions of docs/api-conventions.md, checked over the composed public API
schema that the code would serve now (``public_sdl_from_code``): a subgraph that breaks one
makes this fail, naming the field."""

from __future__ import annotations

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
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


ADDRESS_FIELDS = {"line1", "city", "country"}


def address_violations(schema: GraphQLSchema) -> list[str]:
    """One address: the only object type with an address's fields is ``Address``, the only
    input type ``AddressInput``, and every field or argument named ``…address`` (or typed by
    an address-like type) holds one of the two."""
    found = []
    shaped = {
        name: t
        for name, t in schema.type_map.items()
        if isinstance(t, (GraphQLObjectType, GraphQLInputObjectType))
        and set(t.fields) >= ADDRESS_FIELDS
    }
    outputs = sorted(n for n, t in shaped.items() if isinstance(t, GraphQLObjectType))
    inputs = sorted(n for n, t in shaped.items() if isinstance(t, GraphQLInputObjectType))
    if outputs != ["Address"]:
        found.append(f"address types {outputs}, not exactly ['Address']")
    if inputs != ["AddressInput"]:
        found.append(f"address input types {inputs}, not exactly ['AddressInput']")
    holders: list[tuple[str, str, bool]] = []  # (where, named type, is an input position)
    for owner in schema.type_map.values():
        if owner.name.startswith("__"):
            continue
        if isinstance(owner, (GraphQLObjectType, GraphQLInterfaceType)):
            for name, field in owner.fields.items():
                holders.append((f"{owner.name}.{name}", get_named_type(field.type).name, False))
                holders += [
                    (f"{owner.name}.{name}({arg})", get_named_type(a.type).name, True)
                    for arg, a in field.args.items()
                ]
        elif isinstance(owner, GraphQLInputObjectType):
            holders += [
                (f"{owner.name}.{name}", get_named_type(field.type).name, True)
                for name, field in owner.fields.items()
            ]
    for where, named, is_input in holders:
        holds_address = where.rpartition(".")[2].lower().endswith("address") or named in shaped
        expected = "AddressInput" if is_input else "Address"
        if holds_address and named != expected:
            found.append(f"{where} holds {named}, not {expected}")
    return found


def test_there_is_one_address_type_and_every_address_field_holds_it(api):
    assert address_violations(api) == []
    address = api.type_map["Address"]
    address_input = api.type_map["AddressInput"]
    assert isinstance(address, GraphQLObjectType)
    assert isinstance(address_input, GraphQLInputObjectType)
    assert set(address.fields) == set(address_input.fields)
    for name in ADDRESS_FIELDS:  # required in both, so a stored address is always whole
        assert isinstance(address.fields[name].type, GraphQLNonNull), name
        assert isinstance(address_input.fields[name].type, GraphQLNonNull), name
    # The fields that hold one today, so that losing one is noticed too.
    holding = {
        "Account.shippingAddress",
        "Account.billingAddress",
        "Order.shippingAddress",
        "RegisterInput.shippingAddress",
        "RegisterInput.billingAddress",
        "UpdateAccountInput.shippingAddress",
        "UpdateAccountInput.billingAddress",
        "CreateOrderInput.shippingAddress",
    }
    for where in holding:
        owner, _, field = where.partition(".")
        named = get_named_type(api.type_map[owner].fields[field].type).name
        assert named in {"Address", "AddressInput"}, where


def test_a_second_address_type_or_a_field_holding_another_is_caught():
    """The check itself fails on the two address types issue 13 found in the supergraph."""
    broken = build_schema(
        """
        type Address { line1: String!, city: String!, country: String! }
        type ShippingAddress { line1: String, city: String, country: String }
        input AddressInput { line1: String!, city: String!, country: String! }
        input ShippingAddressInput { line1: String, city: String, country: String }
        type Order { id: ID!, shippingAddress: ShippingAddress, billingAddress: String }
        input CreateOrderInput { shippingAddress: ShippingAddressInput }
        type Query { order(id: ID!): Order }
        type Mutation { createOrder(input: CreateOrderInput!): Order }
        """
    )
    assert address_violations(broken) == [
        "address types ['Address', 'ShippingAddress'], not exactly ['Address']",
        "address input types ['AddressInput', 'ShippingAddressInput'], not exactly "
        "['AddressInput']",
        "Order.shippingAddress holds ShippingAddress, not Address",
        "Order.billingAddress holds String, not Address",
        "CreateOrderInput.shippingAddress holds ShippingAddressInput, not AddressInput",
    ]
