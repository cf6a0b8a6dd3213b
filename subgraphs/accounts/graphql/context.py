"""The per-request context: the caller, the client's address, the account use cases (auth,
profiles, payment methods) and the DataLoaders.

The client's address keys the login throttle. The gateway sends it as ``x-client-ip`` (the
socket peer it saw, never a client header); it is believed only on a request that carries the
gateway secret, since anyone else could write any address there. A request without the secret
(a service, or a direct call where the gateway is not required) is known by its own socket
peer.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from shopkit.auth import GATEWAY_SECRET_HEADER, Identity
from shopkit.errors import Forbidden, Unauthenticated
from shopkit.graphql import RequestContext
from subgraphs.accounts.domain.model import Account
from subgraphs.accounts.service.auth import Auth
from subgraphs.accounts.service.payment_methods import PaymentMethods
from subgraphs.accounts.service.profile import Profiles


@dataclass
class Loaders:
    account: DataLoader[str, Account | None]


CLIENT_IP_HEADER = "x-client-ip"


def client_address(request: Request) -> str:
    """The address of the client this request is for (see the module's docstring)."""
    secret = request.app.state.settings.gateway_secret
    sent = request.headers.get(GATEWAY_SECRET_HEADER, "")
    if sent and hmac.compare_digest(sent.encode(), secret.encode()):
        forwarded = request.headers.get(CLIENT_IP_HEADER, "")
        try:
            return str(ipaddress.ip_address(forwarded.strip()))
        except ValueError:
            pass
    return request.client.host if request.client else "unknown"


@dataclass
class AccountsContext(RequestContext):
    client: str
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
        """Accounts the caller may read; None in place of the others, as of a missing one
        (docs/api-conventions.md, "Not found")."""
        try:
            visible = await profiles.visible(identity, ids)
        except Unauthenticated:
            return [None for _ in ids]
        return [None if isinstance(visible.get(i), Forbidden) else visible.get(i) for i in ids]

    return AccountsContext.for_request(
        request,
        response,
        identity,
        client=client_address(request),
        auth=state.auth,
        profiles=profiles,
        payment_methods=state.payment_methods,
        loaders=Loaders(account=DataLoader(load_fn=load_accounts)),
    )
