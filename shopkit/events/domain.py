"""Domain events, and the one way they become CloudEvents.

A service states what happened as small past-tense records in its ``domain/events.py``
(``OrderPaid``, ``PaymentRefunded``): frozen dataclasses with the event ``type`` as a class
attribute, the ``aggregate_id`` the event is about, and ``data()``, the JSON payload its
schema describes. The domain imports nothing of the kit for that: ``DomainEvent`` only
describes the shape.

``cloud_event`` turns such a record into the CloudEvent the outbox stores, the same way for
every service:

* ``source`` is ``shop/<producer>`` (``shop/orders``, ``shop/payments``...), the producer being
  the subgraph's folder name;
* ``subject`` is the aggregate id, which is also the Kafka key (the outbox reads it from there):
  the events of one aggregate stay in order in one partition;
* the event is checked against the producer's JSON Schema
  (``subgraphs/<producer>/events/schemas/<type>.json``) before it can enter an outbox, so an
  event against its own contract fails the change that emits it instead of reaching Kafka.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Protocol

from shopkit.events.envelope import CloudEvent, new_event
from shopkit.events.schemas import producer_schemas
from shopkit.tracing import event_headers

SOURCE_PREFIX = "shop/"


class DomainEvent(Protocol):
    type: ClassVar[str]

    @property
    def aggregate_id(self) -> str:
        """The id of the aggregate the event is about (the subject and the Kafka key)."""

    def data(self) -> dict[str, Any]:
        """The event's ``data``, as its JSON Schema describes it."""


def source_of(producer: str) -> str:
    return f"{SOURCE_PREFIX}{producer}"


def cloud_event(
    event: DomainEvent,
    *,
    producer: str,
    id: str | None = None,
    time: datetime | None = None,
    headers: Mapping[str, str] | None = None,
) -> CloudEvent:
    """The CloudEvent of ``event``, produced by ``producer``, valid against its JSON Schema
    (``jsonschema.ValidationError`` otherwise). ``id`` defaults to a random UUID (the CQL
    outbox needs a time-based one), ``time`` to now; ``headers`` travel beside the event,
    after the current trace context and request id (``shopkit.tracing.event_headers``): the
    event is built inside the change that emits it, so they are the change's."""
    built = new_event(
        event.type,
        source=source_of(producer),
        subject=event.aggregate_id,
        data=event.data(),
        id=id,
        time=time,
        headers={**event_headers(), **(headers or {})},
    )
    producer_schemas(producer).validate(built)
    return built
