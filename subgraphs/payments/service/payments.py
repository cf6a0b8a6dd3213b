"""The payment use cases: pay an order, retry a failed payment, refund, read payments.

The client never sends an amount: a payment charges exactly the order's total as orders
reports it. Money moves only after the order was claimed for this attempt; the outcome, the
ledger entry, the outbox event and the idempotency record's completion commit together.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shopkit.auth import Identity
from shopkit.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated, Unavailable
from shopkit.events import CloudEvent, new_event
from shopkit.events.schemas import EventSchemas
from shopkit.processor import (
    Card,
    CardToken,
    ChargeResult,
    PaymentProcessor,
    ProcessorError,
    validate_card,
)
from subgraphs.payments.domain.events import charge_event, refund_event
from subgraphs.payments.domain.idempotency import (
    IdempotencyRecord,
    RequestInProgress,
    RetryableConflict,
)
from subgraphs.payments.domain.model import (
    OUTCOME_PENDING,
    LedgerEntry,
    Payment,
    PaymentStatus,
    Refund,
)
from subgraphs.payments.domain.orders import CANCELLED
from subgraphs.payments.service.clients import AccountsClient, OrdersClient
from subgraphs.payments.service.idempotency import IdempotencyKeys, payment_response
from subgraphs.payments.store.cancellations import CancellationStore
from subgraphs.payments.store.payments import CLAIM_SUCCEEDED, PaymentStore

log = logging.getLogger(__name__)

SYSTEM_CALLER = "service:payments"
REFUNDABLE = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)


@dataclass(frozen=True)
class CardInput:
    number: str
    exp_month: int
    exp_year: int
    cvc: str


@dataclass(frozen=True)
class Method:
    """Exactly one of a card typed in now or a saved payment method."""

    card: Card | None = None
    payment_method_id: str | None = None

    def params(self) -> dict[str, Any]:
        if self.card is not None:
            c = self.card
            return {"card": [c.number, c.exp_month, c.exp_year, c.cvc], "paymentMethodId": None}
        return {"card": None, "paymentMethodId": self.payment_method_id}


def parse_method(card: CardInput | None, payment_method_id: str | None) -> Method:
    if (card is None) == (payment_method_id is None):
        raise InvalidInput("Give exactly one of card or paymentMethodId.", field="card")
    if card is not None:
        return Method(card=validate_card(card.number, card.exp_month, card.exp_year, card.cvc))
    if not payment_method_id or not payment_method_id.strip():
        raise InvalidInput("The payment method id must not be empty.", field="paymentMethodId")
    return Method(payment_method_id=payment_method_id)


def _account(identity: Identity) -> str:
    if identity.account_id is None:
        raise Unauthenticated("You must be logged in.")
    return identity.account_id


def _may_read(identity: Identity, payment: Payment) -> bool:
    return identity.is_admin or identity.is_service or identity.account_id == payment.customer_id


class PaymentService:
    def __init__(
        self,
        *,
        payments: PaymentStore,
        cancellations: CancellationStore,
        keys: IdempotencyKeys,
        processor: PaymentProcessor,
        orders: OrdersClient,
        accounts: AccountsClient,
        schemas: EventSchemas,
        notify: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        source: str = "payments",
    ) -> None:
        self.payments = payments
        self.cancellations = cancellations
        self.keys = keys
        self.processor = processor
        self.orders = orders
        self.accounts = accounts
        self.schemas = schemas
        self.notify = notify
        self.clock = clock
        self.source = source

    # -- reading -------------------------------------------------------------------------

    async def get(self, identity: Identity, payment_id: str) -> Payment:
        payment = await self.payments.get(payment_id)
        if payment is None or not _may_read(identity, payment):
            raise NotFound("No such payment.", paymentId=payment_id)
        return payment

    async def for_orders(
        self, identity: Identity, order_ids: list[str]
    ) -> dict[str, list[Payment] | Forbidden]:
        """Each order's attempts (oldest first), or Forbidden for someone else's order."""
        found = await self.payments.for_orders(order_ids)
        answer: dict[str, list[Payment] | Forbidden] = {}
        for order_id in order_ids:
            attempts = found.get(order_id, [])
            if attempts and not _may_read(identity, attempts[0]):
                answer[order_id] = Forbidden("Only the order's owner may see its payments.")
            else:
                answer[order_id] = attempts
        return answer

    # -- paying --------------------------------------------------------------------------

    async def submit(
        self,
        identity: Identity,
        *,
        order_id: str,
        idempotency_key: str,
        card: CardInput | None = None,
        payment_method_id: str | None = None,
    ) -> Payment:
        account = _account(identity)
        method = parse_method(card, payment_method_id)
        params = {"orderId": order_id, **method.params()}

        async def work(attempt: IdempotencyRecord) -> Payment:
            return await self._charge(attempt, account, order_id, method)

        return await self.keys.run(account, idempotency_key, "submitPayment", params, work)

    async def retry(
        self,
        identity: Identity,
        *,
        payment_id: str,
        idempotency_key: str,
        card: CardInput | None = None,
        payment_method_id: str | None = None,
    ) -> Payment:
        """A new attempt for the order of a FAILED payment, with another method."""
        account = _account(identity)
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
        if attempt.payment_id is not None:  # an earlier try's outcome is unknown: ask again
            payment = await self.payments.get(attempt.payment_id)
            assert payment is not None
        else:
            order = await self.orders.get(order_id)
            order.check_payable_by(account)
            source = await self._source(account, method)
            now = self.clock()
            payment = Payment(
                id=str(uuid.uuid4()),
                order_id=order.id,
                customer_id=account,
                amount=order.amount,
                currency=order.currency,
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
        if payment.outcome != OUTCOME_PENDING:
            return payment
        try:
            result = await self.processor.charge(
                source=payment.source_token,
                amount=payment.amount,
                currency=payment.currency,
                idempotency_key=f"charge:{payment.id}",
            )
        except ProcessorError as exc:
            log.warning("charge outcome unknown", extra={"payment_id": payment.id})
            raise Unavailable(
                "The payment processor did not answer; retry with the same idempotency key.",
                paymentId=payment.id,
            ) from exc
        payment = await self._record_charge(attempt, payment, result)
        self.notify()
        if payment.status is PaymentStatus.SUCCEEDED:
            await self._refund_if_cancelled_meanwhile(payment)
        return payment

    async def _source(self, account: str, method: Method) -> CardToken:
        if method.card is not None:
            try:
                return await self.processor.tokenize(method.card)
            except ProcessorError as exc:
                raise Unavailable("The payment processor did not answer; retry.") from exc
        assert method.payment_method_id is not None
        return await self.accounts.payment_source(account, method.payment_method_id)

    async def _record_charge(
        self, attempt: IdempotencyRecord, payment: Payment, result: ChargeResult
    ) -> Payment:
        now = self.clock()
        async with self.payments.locked(payment.id) as tx:
            succeeded = result.status == "succeeded"
            if succeeded:
                after = tx.payment.charged(result.charge_id or "", now)
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
                after = tx.payment.declined(
                    result.failure_code or "card_declined", result.failure_message or "", now
                )
            await tx.save(after)
            await tx.settle_claim(succeeded, now)
            tx.publish(self._event(*charge_event(after)))
            await tx.complete_request(attempt.id, payment_response(after), now)
        return after

    async def _refund_if_cancelled_meanwhile(self, payment: Payment) -> None:
        """A charge that lands on an order cancelled while it ran is given back at once (the
        ``order.cancelled`` consumer does the same; the shared key makes it happen once).

        Called after the success is committed. The consumer's local record comes first (no
        network: it commits that record before looking for a captured payment, so one of the
        two sides always sees the other); the orders service is asked only when there is none.
        """
        try:
            if await self.cancellations.is_cancelled(payment.order_id) or (
                (await self.orders.get(payment.order_id)).status == CANCELLED
            ):
                await self.auto_refund(payment.order_id)
        except RequestInProgress:
            pass  # the consumer is refunding it right now
        except Exception:
            log.warning(
                "could not refund a charge on an order cancelled meanwhile",
                exc_info=True,
                extra={"order_id": payment.order_id},
            )

    # -- refunding -----------------------------------------------------------------------

    async def refund(
        self,
        identity: Identity,
        *,
        payment_id: str,
        idempotency_key: str,
        amount: int | None = None,
    ) -> Payment:
        """Admins refund any payment; a customer refunds their own once the order is
        cancelled. ``amount`` None refunds all that remains."""
        account = _account(identity)
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
            return await self._refund(attempt, payment_id, amount)

        return await self.keys.run(account, idempotency_key, "refundPayment", params, work)

    async def order_cancelled(self, order_id: str, event_id: str) -> Payment | None:
        """The ``order.cancelled`` consumer: records the cancellation (committed first, for a
        charge still in flight to find), then refunds whatever the order has captured."""
        await self.cancellations.record(order_id, event_id, self.clock())
        return await self.auto_refund(order_id)

    async def refund_cancelled_orders(self) -> int:
        """The periodic sweep: refunds cancelled orders that still hold money (a refund that
        failed or was cut short when the charge or the event was handled). Returns how many."""
        done = 0
        for order_id in await self.cancellations.still_captured():
            try:
                if await self.auto_refund(order_id) is not None:
                    done += 1
            except Exception:
                log.warning("sweep could not refund", exc_info=True, extra={"order_id": order_id})
        return done

    async def auto_refund(self, order_id: str) -> Payment | None:
        """Refunds what remains of the order's captured payment, once per order."""
        attempts = (await self.payments.for_orders([order_id])).get(order_id, [])
        paid = [p for p in attempts if p.status in REFUNDABLE]
        if not paid:
            return None
        payment = paid[-1]
        params = {"paymentId": payment.id, "amount": None}

        async def work(attempt: IdempotencyRecord) -> Payment:
            return await self._refund(attempt, payment.id, None)

        key = f"auto-refund:{order_id}"
        return await self.keys.run(SYSTEM_CALLER, key, "refundPayment", params, work)

    async def _refund(
        self, attempt: IdempotencyRecord, payment_id: str, requested: int | None
    ) -> Payment:
        async with self.payments.locked(payment_id) as tx:
            payment = tx.payment
            amount = payment.refund_amount(requested)
            try:
                result = await self.processor.refund(
                    charge_id=payment.charge_id or "",
                    amount=amount,
                    idempotency_key=f"refund:{attempt.id}",
                )
            except ProcessorError as exc:
                raise Unavailable(
                    "The payment processor did not answer; retry with the same idempotency key."
                ) from exc
            now = self.clock()
            refund = Refund(id=str(uuid.uuid4()), amount=amount, created_at=now)
            tx.append(
                LedgerEntry(
                    id=refund.id,
                    payment_id=payment.id,
                    sequence=await tx.next_sequence(),
                    kind="refund",
                    amount=amount,
                    currency=payment.currency,
                    processor_ref=result.refund_id,
                    created_at=now,
                )
            )
            after = payment.with_refund(refund, now)
            await tx.save(after)
            tx.publish(self._event(*refund_event(after, refund)))
            await tx.complete_request(attempt.id, payment_response(after), now)
        self.notify()
        return after

    # -- events --------------------------------------------------------------------------

    def _event(self, event_type: str, data: dict[str, Any]) -> CloudEvent:
        event = new_event(event_type, source=self.source, subject=data["orderId"], data=data)
        self.schemas.validate(event)
        return event
