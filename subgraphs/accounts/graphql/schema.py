"""The accounts subgraph's schema (federation 2.9)."""

from __future__ import annotations

from shopkit.graphql import ShopSchema
from subgraphs.accounts.graphql.mutations import Mutation
from subgraphs.accounts.graphql.queries import Query
from subgraphs.accounts.graphql.types import Account

schema = ShopSchema(query=Query, mutation=Mutation, types=[Account])
