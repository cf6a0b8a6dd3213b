"""The per-request context: the caller, the account use cases (auth, profiles, payment
methods) and the DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from shopkit.auth import Identity
from shopkit.graphql import RequestContext
from subgraphs.accounts.domain.model import Account
from subgraphs.accounts.service.auth import Auth
from subgraphs.accounts.service.payment_methods import PaymentMethods
from subgraphs.accounts.service.profile import Profiles


@dataclass
class Loaders:
    account: DataLoader[str, Account | None]


@dataclass
class AccountsContext(RequestContext):
    auth: Auth
    profiles: Profiles
    payment_methods: PaymentMethods
    loaders: Loaders


def build_context(
    request: Request, response: Response | None, identity: Identity
) -> AccountsContext:
    state = request.app.state
    profiles: Profiles = state.profiles

    async def load_accounts(ids: list[str]) -> list[Any]:
        """Accounts the caller may read; a ``ShopError`` in place of the others."""
        visible = await profiles.visible(identity, ids)
        return [visible.get(i) for i in ids]

    return AccountsContext.for_request(
        request,
        response,
        identity,
        auth=state.auth,
        profiles=profiles,
        payment_methods=state.payment_methods,
        loaders=Loaders(account=DataLoader(load_fn=load_accounts)),
    )
