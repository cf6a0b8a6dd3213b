"""Charging an order: ``submitPayment`` (pay) and ``updatePayment`` (pay again, with another
method, after a failed attempt), and recording a charge's outcome.

The client never sends an amount: an attempt charges exactly the order's total as orders
reports it (orders refuses a payment whose amount no longer matches the order: see
``automatic_refunds.py`` and docs/payments.md). Money moves only after the order was claimed
for this attempt (``order_charge_claims``: at most one charge per order in flight or
captured). The processor is called with no transaction open, with the attempt's own key
(``charge:<payment id>``); the outcome, its ledger entry, the outbox event, the claim's fate
and the idempotency record's answer then commit together. An outcome that never arrives (a
timeout, a crash) is settled by a retry with the same idempotency key or by the
reconciliation (``reconciliation.py``), both through ``record``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from shopkit.auth import Identity, require_account
from shopkit.errors import Conflict, NotFound, Unavailable
from shopkit.events import cloud_event
from shopkit.processor import CardToken, ChargeResult, ProcessorError
from subgraphs.payments.domain.events import PRODUCER, charged
from subgraphs.payments.domain.idempotency import IdempotencyRecord, RetryableConflict
from subgraphs.payments.domain.model import (
    CLAIM_SUCCEEDED,
    OUTCOME_PENDING,
    LedgerEntry,
    Payment,
    PaymentStatus,
)
from subgraphs.payments.service.automatic_refunds import AutomaticRefunds
from subgraphs.payments.service.idempotency import payment_response
from subgraphs.payments.service.inputs import CardInput, Method, parse_method
from subgraphs.payments.service.money_movement import MoneyMovement
from subgraphs.payments.service.ports import Accounts

log = logging.getLogger(__name__)


@dataclass(eq=False, kw_only=True)
class Charges(MoneyMovement):
    accounts: Accounts
    automatic_refunds: AutomaticRefunds

    async def pay(
        self,
        identity: Identity,
        *,
        order_id: str,
        idempotency_key: str,
        card: CardInput | None = None,
        payment_method_id: str | None = None,
    ) -> Payment:
        """``submitPayment``: a first attempt to pay the caller's order."""
        account = require_account(identity)
        method = parse_method(card, payment_method_id)
        params = {"orderId": order_id, **method.params()}

        async def work(attempt: IdempotencyRecord) -> Payment:
            return await self._charge(attempt, account, order_id, method)

        return await self.keys.run(account, idempotency_key, "submitPayment", params, work)

    async def pay_again(
        self,
        identity: Identity,
        *,
        payment_id: str,
        idempotency_key: str,
        card: CardInput | None = None,
        payment_method_id: str | None = None,
    ) -> Payment:
        """``updatePayment``: a new attempt, with another method, for the order of a FAILED
        payment (the failed attempt itself stays as it is)."""
        account = require_account(identity)
        method = parse_method(card, payment_method_id)
        params = {"paymentId": payment_id, **method.params()}

        async def work(attempt: IdempotencyRecord) -> Payment:
            if attempt.payment_id is not None:
                return await self._charge(attempt, account, "", method)
            previous = await self.payments.get(payment_id)
            if previous is None or previous.customer_id != account:
                raise NotFound("No such payment.", paymentId=payment_id)
            if previous.status is not PaymentStatus.FAILED:
                raise Conflict(
                    f"Only a failed payment can be retried; this one is {previous.status.value}.",
                    status=previous.status.value,
                )
            return await self._charge(attempt, account, previous.order_id, method)

        return await self.keys.run(account, idempotency_key, "updatePayment", params, work)

    async def _charge(
        self, attempt: IdempotencyRecord, account: str, order_id: str, method: Method
    ) -> Payment:
        if attempt.payment_id is not None:
            # An earlier try with this key left its outcome unknown: ask the processor again
            # with the same processor key (it answers the first outcome, never a second charge).
            payment = await self.payments.get(attempt.payment_id)
            assert payment is not None
        else:
            payment = await self._open_attempt(attempt, account, order_id, method)
        if payment.outcome != OUTCOME_PENDING:
            return payment
        try:
            result = await self.processor.charge(
                source=payment.source_token,
                amount=payment.amount,
                currency=payment.currency,
                idempotency_key=payment.processor_key,
            )
        except ProcessorError as exc:
            log.warning("charge outcome unknown", extra={"payment_id": payment.id})
            raise Unavailable(
                "The payment processor did not answer; retry with the same idempotency key.",
                paymentId=payment.id,
            ) from exc
        return await self.record(payment.id, result)

    async def _open_attempt(
        self, attempt: IdempotencyRecord, account: str, order_id: str, method: Method
    ) -> Payment:
        """Creates the PENDING payment for the order's total, holding the order's claim."""
        order = await self.orders.get(order_id)
        order.check_payable_by(account)
        source = await self._source(account, method)
        now = self.clock()
        payment = Payment(
            id=str(uuid.uuid4()),
            order_id=order.id,
            customer_id=account,
            amount=order.total.amount,
            currency=order.total.currency,
            outcome=OUTCOME_PENDING,
            source_token=source.token,
            method_brand=source.brand,
            method_last4=source.last4,
            created_at=now,
            updated_at=now,
        )
        claim = await self.payments.claim_and_create(payment, attempt.id, now)
        if claim is not None and claim.state == CLAIM_SUCCEEDED:
            raise Conflict("This order has already been paid.", orderId=order.id)
        if claim is not None:
            raise RetryableConflict(
                "Another payment for this order is in progress; retry shortly.",
                orderId=order.id,
            )
        return payment

    async def _source(self, account: str, method: Method) -> CardToken:
        if method.card is not None:
            try:
                return await self.processor.tokenize(method.card)
            except ProcessorError as exc:
                raise Unavailable("The payment processor did not answer; retry.") from exc
        assert method.payment_method_id is not None
        return await self.accounts.payment_source(account, method.payment_method_id)

    async def record(self, payment_id: str, result: ChargeResult) -> Payment:
        """Records the processor's answer to the attempt's charge, once: whoever comes second
        (the request, its retry, the reconciliation) finds it recorded and changes nothing.
        A success keeps the order's claim, a decline frees it; the request that opened the
        attempt gets the payment as its stored answer."""
        async with self.payments.locked(payment_id) as tx:
            payment = tx.payment
            if payment.outcome != OUTCOME_PENDING:
                return payment
            # Read once the row is locked: the outcome's time is when it is written, not when
            # this call began to wait for the lock behind another writer.
            now = self.clock()
            succeeded = result.status == "succeeded"
            if succeeded:
                after = payment.charged(result.charge_id or "", now)
                tx.append(
                    LedgerEntry(
                        id=str(uuid.uuid4()),
                        payment_id=payment.id,
                        sequence=await tx.next_sequence(),
                        kind="charge",
                        amount=after.captured,
                        currency=after.currency,
                        processor_ref=result.charge_id or "",
                        created_at=now,
                    )
                )
            else:
                after = payment.declined(
                    result.failure_code or "card_declined", result.failure_message or "", now
                )
            await tx.save(after)
            await tx.settle_claim(succeeded, now)
            await tx.publish(cloud_event(charged(after), producer=PRODUCER))
            await tx.complete_charge_request(payment_response(after), now)
        self.notify()
        if after.status is PaymentStatus.SUCCEEDED:
            await self.automatic_refunds.refund_if_cancelled_meanwhile(after)
        return after
