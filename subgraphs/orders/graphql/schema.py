"""The orders subgraph's schema."""

from __future__ import annotations

from shopkit.graphql import ShopSchema
from subgraphs.orders.graphql.mutations import Mutation
from subgraphs.orders.graphql.queries import Query
from subgraphs.orders.graphql.subscriptions import Subscription
from subgraphs.orders.graphql.types import Account, Item, Order

schema = ShopSchema(
    query=Query, mutation=Mutation, subscription=Subscription, types=[Order, Item, Account]
)
