"""Mutations: pay an order, retry a failed payment with another method, refund.

Each takes an ``idempotencyKey`` (at most 255 characters, scoped to the caller): repeating a
request with the same key and parameters returns the first answer without moving money again.
"""

from __future__ import annotations

import strawberry

from subgraphs.payments.graphql.types import Info, Payment, payment_type
from subgraphs.payments.service.inputs import CardInput


@strawberry.input(description="A card typed in for this payment; never stored.")
class PaymentCardInput:
    number: str
    exp_month: int
    exp_year: int
    cvc: str


@strawberry.input(description="Exactly one of card or paymentMethodId.")
class SubmitPaymentInput:
    order_id: strawberry.ID
    idempotency_key: str
    card: PaymentCardInput | None = None
    payment_method_id: strawberry.ID | None = None


@strawberry.input(description="Exactly one of card or paymentMethodId.")
class UpdatePaymentInput:
    idempotency_key: str
    card: PaymentCardInput | None = None
    payment_method_id: strawberry.ID | None = None


@strawberry.input(description="Without amount, refunds all that remains.")
class RefundPaymentInput:
    idempotency_key: str
    amount: int | None = None


def _card(card: PaymentCardInput | None) -> CardInput | None:
    if card is None:
        return None
    return CardInput(card.number, card.exp_month, card.exp_year, card.cvc)


def _id(value: strawberry.ID | None) -> str | None:
    return None if value is None else str(value)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Charges the order's total (the order must be yours and await payment).",
    )
    async def submit_payment(self, info: Info, input: SubmitPaymentInput) -> Payment:
        payment = await info.context.service.pay(
            info.context.identity,
            order_id=str(input.order_id),
            idempotency_key=input.idempotency_key,
            card=_card(input.card),
            payment_method_id=_id(input.payment_method_id),
        )
        return payment_type(payment)

    @strawberry.mutation(
        description="Retries a FAILED payment with another method, as a new attempt.",
    )
    async def update_payment(
        self, info: Info, id: strawberry.ID, input: UpdatePaymentInput
    ) -> Payment:
        payment = await info.context.service.pay_again(
            info.context.identity,
            payment_id=str(id),
            idempotency_key=input.idempotency_key,
            card=_card(input.card),
            payment_method_id=_id(input.payment_method_id),
        )
        return payment_type(payment)

    @strawberry.mutation(
        description="Admins; or the owner once the order is cancelled. Never above the capture.",
    )
    async def refund_payment(
        self, info: Info, id: strawberry.ID, input: RefundPaymentInput
    ) -> Payment:
        payment = await info.context.service.refund(
            info.context.identity,
            payment_id=str(id),
            idempotency_key=input.idempotency_key,
            amount=input.amount,
        )
        return payment_type(payment)
