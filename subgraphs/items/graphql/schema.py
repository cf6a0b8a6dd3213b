"""The items subgraph's schema (exported to ``subgraphs/items/schema.graphql``)."""

from __future__ import annotations

from shopkit.graphql import ShopSchema
from subgraphs.items.graphql.mutations import Mutation
from subgraphs.items.graphql.queries import Query
from subgraphs.items.graphql.types import Item

schema = ShopSchema(query=Query, mutation=Mutation, types=[Item])
