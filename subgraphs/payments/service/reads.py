"""Reading payments: one payment, or the attempts of some orders, for whoever may see them: a
logged-in account or a service must ask (``Unauthenticated`` otherwise), and sees its own
payments (an admin or a service: all)."""

from __future__ import annotations

from shopkit.auth import Identity, require_caller
from shopkit.errors import NotFound, Unauthenticated
from subgraphs.payments.domain.model import Payment
from subgraphs.payments.service.inputs import may_read
from subgraphs.payments.service.ports import PaymentStore


class PaymentReads:
    def __init__(self, payments: PaymentStore) -> None:
        self.payments = payments

    async def get(self, identity: Identity, payment_id: str) -> Payment:
        """Someone else's payment looks like no payment at all."""
        require_caller(identity)
        payment = await self.payments.get(payment_id)
        if payment is None or not may_read(identity, payment):
            raise NotFound("No such payment.", paymentId=payment_id)
        return payment

    async def for_orders(
        self, identity: Identity, order_ids: list[str]
    ) -> dict[str, list[Payment]]:
        """Each order's attempts (oldest first); none for someone else's order, which looks
        like an order without payments (docs/api-conventions.md, "Not found")."""
        require_caller(identity)
        found = await self.payments.for_orders(order_ids)
        answer: dict[str, list[Payment]] = {}
        for order_id in order_ids:
            attempts = found.get(order_id, [])
            answer[order_id] = attempts if attempts and may_read(identity, attempts[0]) else []
        return answer

    async def find(self, identity: Identity, payment_id: str) -> Payment | None:
        """The payment, or None if there is none the caller may read (a single lookup)."""
        try:
            return await self.get(identity, payment_id)
        except (NotFound, Unauthenticated):
            return None
