"""Refunding a payment: ``refundPayment``, and the three steps every refund takes (the
automatic ones too).

1. Reserve: a short transaction with the payment locked checks the amount against what
   remains (the capture less refunds done *and* refunds reserved), writes a pending refund and
   commits. Of two racing refunds the second sees the first's reservation.
2. Ask the processor, with no transaction open, with the reservation's own key
   (``refund:<reservation id>``).
3. Record: the answer turns the reservation into a ledger row, the outbox event and the
   idempotency record's answer, in one transaction. A refusal drops the reservation. An answer
   that never arrives leaves the reservation pending: a retry with the same idempotency key
   sends it again with the same processor key, and so does the reconciliation
   (``reconciliation.py``), so the refund that was decided is made exactly once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from shopkit.auth import Identity, require_account
from shopkit.errors import Conflict, Forbidden, InvalidInput, NotFound, ShopError, Unavailable
from shopkit.events import cloud_event
from shopkit.processor import ProcessorError, ProcessorRefused, RefundResult
from subgraphs.payments.domain.events import PRODUCER, PaymentRefunded
from subgraphs.payments.domain.idempotency import IdempotencyRecord
from subgraphs.payments.domain.model import LedgerEntry, Payment, PendingRefund, Refund
from subgraphs.payments.domain.orders import CANCELLED
from subgraphs.payments.service.idempotency import (
    IdempotencyKeys,
    error_response,
    payment_response,
)
from subgraphs.payments.service.money_movement import MoneyMovement

log = logging.getLogger(__name__)


@dataclass(eq=False, kw_only=True)
class Refunds(MoneyMovement):
    async def refund(
        self,
        identity: Identity,
        *,
        payment_id: str,
        idempotency_key: str,
        amount: int | None = None,
    ) -> Payment:
        """``refundPayment``: admins refund any payment; a customer refunds their own once
        the order is cancelled. ``amount`` None refunds all that remains."""
        account = require_account(identity)
        if amount is not None and amount <= 0:
            raise InvalidInput("The refund amount must be positive.", field="amount")
        params = {"paymentId": payment_id, "amount": amount}

        async def work(attempt: IdempotencyRecord) -> Payment:
            payment = await self.payments.get(payment_id)
            if payment is None or not (identity.is_admin or payment.customer_id == account):
                raise NotFound("No such payment.", paymentId=payment_id)
            if not identity.is_admin:
                order = await self.orders.get(payment.order_id)
                if order.status != CANCELLED:
                    raise Forbidden(
                        "You may refund a payment yourself only once its order is cancelled.",
                        orderStatus=order.status,
                    )
            return await self.run(attempt, payment_id, amount)

        return await self.keys.run(account, idempotency_key, "refundPayment", params, work)

    async def run(
        self,
        attempt: IdempotencyRecord,
        payment_id: str,
        requested: int | None,
        *,
        release_claim: bool = False,
    ) -> Payment:
        """Reserves (or, on a retry with the same key, finds) the refund, asks the processor
        and records its answer. ``release_claim``: the refund of a payment orders refused; the
        order's claim is freed in the same transaction that reserves the refund, and finding
        nothing left to refund is not an error."""
        pending = await self.payments.pending_refund_of_request(attempt.id)
        if pending is None:
            reserved = await self._reserve(attempt, payment_id, requested, release_claim)
            if isinstance(reserved, Payment):
                return reserved
            pending = reserved
        try:
            result = await self.processor.refund(
                charge_id=pending.charge_id,
                amount=pending.amount,
                idempotency_key=pending.processor_key,
            )
        except ProcessorRefused as exc:
            refused = Conflict("The payment processor refused the refund.", paymentId=payment_id)
            await self.drop(pending, refused)
            raise refused from exc
        except ProcessorError as exc:
            log.warning("refund outcome unknown", extra={"refund_id": pending.id})
            raise Unavailable(
                "The payment processor did not answer; retry with the same idempotency key.",
                paymentId=payment_id,
            ) from exc
        return await self.record(pending, result)

    async def _reserve(
        self,
        attempt: IdempotencyRecord,
        payment_id: str,
        requested: int | None,
        release_claim: bool,
    ) -> PendingRefund | Payment:
        now = self.clock()
        async with self.payments.locked(payment_id) as tx:
            answer = await tx.answer_of(attempt.id)
            if answer is not None:
                # This request's refund was settled meanwhile (by the reconciliation, between
                # the retry taking the key over and now): its answer, not a second refund.
                return IdempotencyKeys.replay(answer)
            payment = tx.payment
            if release_claim:
                await tx.release_claim()
                if payment.refundable <= 0:
                    await tx.complete_request(attempt.id, payment_response(payment), now)
                    return payment
            amount = payment.refund_amount(requested)
            pending = PendingRefund(
                id=str(uuid.uuid4()),
                payment_id=payment.id,
                amount=amount,
                currency=payment.currency,
                charge_id=payment.charge_id or "",
                request_id=attempt.id,
                created_at=now,
            )
            tx.reserve_refund(pending)
            await tx.save(payment.refund_reserved(amount, now))
        return pending

    async def record(self, pending: PendingRefund, result: RefundResult) -> Payment:
        """Records the processor's refund of a reservation, once: whoever comes second (the
        request, its retry, the reconciliation) finds the reservation gone."""
        now = self.clock()
        async with self.payments.locked(pending.payment_id) as tx:
            if await tx.pending_refund(pending.id) is None:
                return tx.payment
            if result.amount != pending.amount:  # the books follow the processor's
                log.error(
                    "processor refunded another amount than reserved",
                    extra={"refund_id": pending.id, "reserved": pending.amount},
                )
            refund = Refund(id=pending.id, amount=result.amount, created_at=now)
            tx.append(
                LedgerEntry(
                    id=refund.id,
                    payment_id=pending.payment_id,
                    sequence=await tx.next_sequence(),
                    kind="refund",
                    amount=refund.amount,
                    currency=pending.currency,
                    processor_ref=result.refund_id,
                    created_at=now,
                )
            )
            await tx.drop_refund(pending.id)
            after = tx.payment.refund_done(refund, reserved=pending.amount, now=now)
            await tx.save(after)
            await tx.publish(cloud_event(PaymentRefunded(after, refund), producer=PRODUCER))
            if pending.request_id is not None:
                await tx.complete_request(pending.request_id, payment_response(after), now)
        self.notify()
        return after

    async def drop(self, pending: PendingRefund, error: ShopError) -> Payment:
        """Gives a reservation the processor refused (or never made) back to what may be
        refunded; its request's answer becomes ``error``."""
        now = self.clock()
        async with self.payments.locked(pending.payment_id) as tx:
            if await tx.pending_refund(pending.id) is None:
                return tx.payment
            await tx.drop_refund(pending.id)
            after = tx.payment.refund_dropped(pending.amount, now)
            await tx.save(after)
            if pending.request_id is not None:
                await tx.complete_request(pending.request_id, error_response(error), now)
        return after
