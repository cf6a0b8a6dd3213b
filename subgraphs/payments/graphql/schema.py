"""The payments subgraph schema."""

from __future__ import annotations

from shopkit.graphql import ShopSchema
from subgraphs.payments.graphql.mutations import Mutation
from subgraphs.payments.graphql.queries import Query
from subgraphs.payments.graphql.types import Order, Payment

schema = ShopSchema(query=Query, mutation=Mutation, types=[Payment, Order])
