"""What the payment use cases need from the outside: the stores, the orders and accounts
services, and the card processor (``shopkit.processor.PaymentProcessor``).

The SQL store (``subgraphs.payments.store``) and the HTTP clients (``service/clients.py``)
implement these; ``tests/payments/service/`` runs the money logic on in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from shopkit.events import CloudEvent
from shopkit.processor import CardToken
from subgraphs.payments.domain.idempotency import IdempotencyRecord
from subgraphs.payments.domain.model import ChargeClaim, LedgerEntry, Payment, PendingRefund
from subgraphs.payments.domain.orders import OrderView


class PaymentTx(Protocol):
    """One transaction holding one payment locked for writing: nothing it writes is seen by
    anyone until it commits, and everything it writes commits together or not at all."""

    payment: Payment

    async def next_sequence(self) -> int:
        """The sequence number of the payment's next ledger entry."""

    def append(self, entry: LedgerEntry) -> None:
        """Appends a ledger entry (the ledger is never updated nor deleted from)."""

    async def save(self, payment: Payment) -> None:
        """Writes the payment's state (outcome, captured, refunded, refunding, ...)."""

    async def settle_claim(self, succeeded: bool, now: datetime) -> None:
        """A captured charge keeps its order's claim for good; a decline frees it."""

    async def release_claim(self) -> None:
        """Frees the order for another attempt, if this payment still holds its claim."""

    def reserve_refund(self, pending: PendingRefund) -> None: ...

    async def pending_refund(self, refund_id: str) -> PendingRefund | None:
        """The reservation, if it is still pending (not recorded nor dropped meanwhile)."""

    async def drop_refund(self, refund_id: str) -> None: ...

    async def publish(self, event: CloudEvent) -> None:
        """Adds the event to the outbox, keyed by the payment's order."""

    async def answer_of(self, record_id: str) -> str | None:
        """The stored answer of an idempotency record, if it has one by now."""

    async def complete_request(self, record_id: str, response: str, now: datetime) -> None:
        """Stores the answer of an idempotency record, if it is still running."""

    async def complete_charge_request(self, response: str, now: datetime) -> None:
        """Stores the answer of the request that created this payment, if it is still running."""


class PaymentStore(Protocol):
    async def get(self, payment_id: str) -> Payment | None: ...

    async def for_orders(self, order_ids: Sequence[str]) -> dict[str, list[Payment]]:
        """Each order's payment attempts, oldest first (orders without any are left out)."""

    async def claim_and_create(
        self, payment: Payment, record_id: str, now: datetime
    ) -> ChargeClaim | None:
        """Claims the payment's order and creates the PENDING payment, tied to the idempotency
        record ``record_id``, atomically. None on success, else the claim another attempt holds."""

    def locked(self, payment_id: str) -> AbstractAsyncContextManager[PaymentTx]:
        """A transaction on the payment, locked for writing; raises LookupError if unknown."""

    async def unsettled_charges(self, limit: int = 100) -> list[Payment]:
        """Payments whose charge outcome is not recorded yet, oldest first."""

    async def pending_refunds(self, limit: int = 100) -> list[PendingRefund]:
        """Reserved refunds the processor has not answered yet, oldest first."""

    async def pending_refund_of_request(self, request_id: str) -> PendingRefund | None: ...


class CancellationStore(Protocol):
    """Cancelled orders as the ``order.cancelled`` consumer recorded them."""

    async def record(self, order_id: str, event_id: str, now: datetime) -> None:
        """Commits the cancellation; a repeat changes nothing."""

    async def is_cancelled(self, order_id: str) -> bool: ...

    async def still_captured(self, limit: int = 100) -> list[str]:
        """Cancelled orders that still hold captured money not being refunded."""


class IdempotencyStore(Protocol):
    async def insert(self, record: IdempotencyRecord, now: datetime, lease_until: datetime) -> bool:
        """True if this request owns the key now; False if another request has it."""

    async def get(self, caller_id: str, key: str) -> IdempotencyRecord | None: ...

    async def delete_if_expired(self, record_id: str, now: datetime) -> None: ...

    async def take_over(self, record_id: str, now: datetime, lease_until: datetime) -> bool:
        """Takes an unfinished key whose lease ran out or was released; False if it runs."""

    async def release(self, record_id: str, now: datetime) -> None:
        """Gives up the lease of an unfinished key, so that a retry may take it over."""

    async def complete_alone(self, record_id: str, response: str, now: datetime) -> None:
        """Stores the answer (an error) of a request that wrote nothing else."""

    async def cleanup(self, now: datetime) -> int:
        """Deletes expired keys; returns how many."""


class Orders(Protocol):
    async def get(self, order_id: str) -> OrderView:
        """The order as orders reports it; NotFound if there is none."""


class Accounts(Protocol):
    async def payment_source(self, account_id: str, payment_method_id: str) -> CardToken:
        """The processor token of the account's saved card; NotFound if it is not theirs."""
