"""Events between services: domain events and the CloudEvents envelope they travel in, JSON
Schemas, the outbox and inbox contracts (implementations per engine in ``store``), the Kafka
publisher and consumer, the outbox relay, the retention job, and ``EventRuntime``, which wires
them in a service's lifespan."""

from shopkit.events.domain import DomainEvent, cloud_event
from shopkit.events.envelope import CloudEvent, new_event, topic_for
from shopkit.events.inbox import InboxStore
from shopkit.events.outbox import OutboxMessage, OutboxRelay, OutboxStore
from shopkit.events.runtime import EventRuntime

__all__ = [
    "CloudEvent",
    "DomainEvent",
    "EventRuntime",
    "InboxStore",
    "OutboxMessage",
    "OutboxRelay",
    "OutboxStore",
    "cloud_event",
    "new_event",
    "topic_for",
]
