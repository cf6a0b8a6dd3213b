"""Queries: ``me``, ``account(id)`` and the internal ``paymentMethodSource``."""

from __future__ import annotations

import strawberry

from shopkit.entities import entity_or_none
from subgraphs.accounts.graphql.context import AccountsContext
from subgraphs.accounts.graphql.types import Account, PaymentSource

Info = strawberry.Info[AccountsContext]


@strawberry.type
class Query:
    @strawberry.field(description="The caller's account; null without an access token.")
    async def me(self, info: Info) -> Account | None:
        account = await info.context.profiles.me(info.context.identity)
        return None if account is None else Account.of(account)

    @strawberry.field(description="An account: the caller's own, or any for an admin.")
    async def account(self, info: Info, id: strawberry.ID) -> Account | None:
        return await entity_or_none(info.context.loaders.account, id, Account.of)

    @strawberry.federation.field(
        inaccessible=True,
        description="Internal (payments): the processor token of an account's saved card.",
    )
    async def payment_method_source(
        self, info: Info, account_id: strawberry.ID, payment_method_id: strawberry.ID
    ) -> PaymentSource | None:
        method = await info.context.payment_methods.source(
            info.context.identity, str(account_id), str(payment_method_id)
        )
        return None if method is None else PaymentSource.of(method)
