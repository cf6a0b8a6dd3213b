"""The CloudEvents payments writes to its outbox, built from the domain's payloads
(``domain/events.py``) and checked against their JSON Schemas before they are stored."""

from __future__ import annotations

from typing import Any

from shopkit.events import CloudEvent, new_event
from shopkit.events.schemas import EventSchemas
from subgraphs.payments.domain.events import charge_event, refund_event
from subgraphs.payments.domain.model import Payment, Refund


class PaymentEvents:
    def __init__(self, schemas: EventSchemas, source: str) -> None:
        self.schemas = schemas
        self.source = source

    def charged(self, payment: Payment) -> CloudEvent:
        """``payment.succeeded`` or ``payment.failed``: the outcome of the attempt's charge."""
        return self._event(*charge_event(payment))

    def refunded(self, payment: Payment, refund: Refund) -> CloudEvent:
        return self._event(*refund_event(payment, refund))

    def _event(self, event_type: str, data: dict[str, Any]) -> CloudEvent:
        event = new_event(event_type, source=self.source, subject=data["orderId"], data=data)
        self.schemas.validate(event)
        return event
