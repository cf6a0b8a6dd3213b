"""The per-request context: the caller, the payment service and the request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from shopkit.auth import Identity
from shopkit.graphql import RequestContext
from subgraphs.payments.domain.model import Payment
from subgraphs.payments.service.payments import PaymentService


@dataclass
class Loaders:
    payments_by_order: DataLoader[str, list[Payment]]


def make_loaders(service: PaymentService, identity: Identity) -> Loaders:
    async def load_by_order(order_ids: list[str]) -> list[list[Payment]]:
        found = await service.for_orders(identity, list(order_ids))
        return [found[o] for o in order_ids]

    return Loaders(payments_by_order=DataLoader(load_fn=load_by_order))


@dataclass
class PaymentsContext(RequestContext):
    service: PaymentService
    loaders: Loaders


def make_context(
    request: Request, response: Response | None, identity: Identity
) -> PaymentsContext:
    service: PaymentService = request.app.state.payments
    return PaymentsContext.for_request(
        request, response, identity, service=service, loaders=make_loaders(service, identity)
    )
