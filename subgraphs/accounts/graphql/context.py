"""The per-request context: the caller, the account service and the DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from shopkit.auth import Identity
from shopkit.graphql import RequestContext
from subgraphs.accounts.domain.model import Account
from subgraphs.accounts.service.accounts import AccountService


@dataclass
class Loaders:
    account: DataLoader[str, Account | None]


@dataclass
class AccountsContext(RequestContext):
    accounts: AccountService
    loaders: Loaders


def build_context(
    request: Request, response: Response | None, identity: Identity
) -> AccountsContext:
    service: AccountService = request.app.state.accounts

    async def load_accounts(ids: list[str]) -> list[Any]:
        """Accounts the caller may read; a ``ShopError`` in place of the others."""
        visible = await service.visible(identity, ids)
        return [visible.get(i) for i in ids]

    return AccountsContext.for_request(
        request,
        response,
        identity,
        accounts=service,
        loaders=Loaders(account=DataLoader(load_fn=load_accounts)),
    )
