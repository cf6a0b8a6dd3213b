"""The GraphQL types: Payment (an entity), the Order entity payments contributes fields to,
and the value types. Resolvers are thin: they read the domain object or a loader."""

from __future__ import annotations

from datetime import datetime

import strawberry

from shopkit.graphql_types import Connection, Money
from shopkit.paging import PAGE_DEFAULT, page_of_list
from subgraphs.payments.domain import model
from subgraphs.payments.graphql.context import PaymentsContext

Info = strawberry.Info[PaymentsContext, None]


# The domain's enum is the GraphQL enum: registered here, not copied.
strawberry.enum(model.PaymentStatus, name="PaymentStatus")


@strawberry.type(description="The card a payment was charged to; never more than this.")
class CardSummary:
    brand: str
    last4: str


@strawberry.type
class PaymentRefund:
    id: strawberry.ID
    amount: Money
    created_at: datetime


@strawberry.federation.type(keys=["id"], description="One attempt to pay an order's total.")
class Payment:
    id: strawberry.ID
    amount: Money
    status: model.PaymentStatus
    method: CardSummary | None
    failure_code: str | None
    failure_reason: str | None
    refunded: Money
    refundable: Money
    refund_list: strawberry.Private[list[PaymentRefund]]
    created_at: datetime
    updated_at: datetime
    order_id: strawberry.Private[str]

    @strawberry.field(description="Its refunds, oldest first.")
    def refunds(
        self, first: int = PAGE_DEFAULT, after: str | None = None
    ) -> Connection[PaymentRefund]:
        page = page_of_list(self.refund_list, kind="refund", first=first, after=after)
        return Connection.of(page, lambda refund: refund)

    @strawberry.field
    def order(self) -> Order:
        return Order(id=strawberry.ID(self.order_id))

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Payment | None:
        payment = await info.context.service.find(info.context.identity, str(id))
        return payment_type(payment) if payment is not None else None


@strawberry.federation.type(keys=["id"])
class Order:
    id: strawberry.ID

    @strawberry.field(description="The latest payment attempt (owner, admin or service).")
    async def payment(self, info: Info) -> Payment | None:
        attempts = await info.context.loaders.payments_by_order.load(str(self.id))
        return payment_type(attempts[-1]) if attempts else None

    @strawberry.field(description="All payment attempts, oldest first (owner, admin or service).")
    async def payments(
        self, info: Info, first: int = PAGE_DEFAULT, after: str | None = None
    ) -> Connection[Payment]:
        return await payments_of_order(info, str(self.id), first, after)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Order:
        return Order(id=id)


def payment_type(payment: model.Payment) -> Payment:
    def money(amount: int) -> Money:
        return Money.of(payment.money(amount))

    method = (
        CardSummary(brand=payment.method_brand, last4=payment.method_last4)
        if payment.method_brand and payment.method_last4
        else None
    )
    return Payment(
        id=strawberry.ID(payment.id),
        amount=money(payment.amount),
        status=payment.status,
        method=method,
        failure_code=payment.failure_code,
        failure_reason=payment.failure_message,
        refunded=money(payment.refunded),
        refundable=money(payment.refundable),
        refund_list=[
            PaymentRefund(id=strawberry.ID(r.id), amount=money(r.amount), created_at=r.created_at)
            for r in payment.refunds
        ],
        created_at=payment.created_at,
        updated_at=payment.updated_at,
        order_id=payment.order_id,
    )


async def payments_of_order(
    info: Info, order_id: str, first: int, after: str | None
) -> Connection[Payment]:
    """A page of an order's attempts, oldest first (a list that only grows at its end)."""
    attempts = await info.context.loaders.payments_by_order.load(order_id)
    page = page_of_list(attempts, kind="payment", first=first, after=after)
    return Connection.of(page, payment_type)
