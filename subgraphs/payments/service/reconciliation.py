"""Settling charges and refunds whose outcome payments never learnt, against the processor.

A charge's answer can be lost (a timeout, a crash of payments between the processor's answer
and the commit): the payment stays PENDING and its order's claim ``charging``, so no other
attempt may pay the order. A refund's answer can be lost the same way: its reservation stays
pending and keeps its amount out of what may be refunded. The app runs ``run`` at start-up and
then periodically (``PAYMENTS_RECONCILE_INTERVAL_SECONDS``); each open charge or refund is
looked up at the processor by its idempotency key:

* found: its outcome is recorded exactly as the request would have recorded it (``Charges.
  record``, ``Refunds.record``): a captured charge becomes SUCCEEDED (and its order PAID, or
  refunded if it was cancelled meanwhile), a declined one FAILED and its order's claim freed;
* not found, once older than the grace period (``PAYMENTS_UNKNOWN_OUTCOME_GRACE_SECONDS``,
  longer than any processor call with its retries, so the request that sent it can no longer
  arrive): a charge was never made, so the attempt FAILS with ``processing_error`` and the
  order's claim is freed for a new attempt; a refund is a decision already taken, so it is sent
  again with the same key (a late original cannot make it twice) and recorded;
* the processor cannot be asked: left for the next run. Nothing is ever guessed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shopkit.errors import Conflict
from shopkit.processor import ChargeResult, PaymentProcessor, ProcessorError, ProcessorRefused
from subgraphs.payments.domain.model import NEVER_RECEIVED_CODE, NEVER_RECEIVED_MESSAGE
from subgraphs.payments.service.charges import Charges
from subgraphs.payments.service.ports import PaymentStore
from subgraphs.payments.service.refunds import Refunds

log = logging.getLogger(__name__)

NEVER_RECEIVED = ChargeResult(
    status="failed", failure_code=NEVER_RECEIVED_CODE, failure_message=NEVER_RECEIVED_MESSAGE
)


@dataclass(frozen=True)
class Reconciled:
    """How many open charges and refunds one run settled, and how many it left open."""

    charges: int = 0
    refunds: int = 0
    left_open: int = 0


@dataclass(eq=False, kw_only=True)
class Reconciliation:
    payments: PaymentStore
    processor: PaymentProcessor
    charges: Charges
    refunds: Refunds
    grace: timedelta
    clock: Callable[[], datetime]

    async def run(self) -> Reconciled:
        cutoff = self.clock() - self.grace
        charges = refunds = left_open = 0
        for payment in await self.payments.unsettled_charges():
            try:
                found = await self.processor.find_charge(payment.processor_key)
            except ProcessorError:
                log.warning("could not look a charge up", extra={"payment_id": payment.id})
                left_open += 1
                continue
            if found is None and payment.created_at > cutoff:
                left_open += 1  # its request may still reach the processor
                continue
            await self.charges.record(payment.id, found or NEVER_RECEIVED)
            log.info(
                "charge reconciled",
                extra={"payment_id": payment.id, "found": found is not None},
            )
            charges += 1
        for pending in await self.payments.pending_refunds():
            try:
                result = await self.processor.find_refund(pending.processor_key)
                if result is None and pending.created_at > cutoff:
                    left_open += 1
                    continue
                if result is None:
                    result = await self.processor.refund(
                        charge_id=pending.charge_id,
                        amount=pending.amount,
                        idempotency_key=pending.processor_key,
                    )
            except ProcessorRefused:
                log.error("processor refused a reserved refund", extra={"refund_id": pending.id})
                await self.refunds.drop(
                    pending, Conflict("The payment processor refused the refund.")
                )
                refunds += 1
                continue
            except ProcessorError:
                log.warning("could not look a refund up", extra={"refund_id": pending.id})
                left_open += 1
                continue
            await self.refunds.record(pending, result)
            log.info("refund reconciled", extra={"refund_id": pending.id})
            refunds += 1
        return Reconciled(charges=charges, refunds=refunds, left_open=left_open)
