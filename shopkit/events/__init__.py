"""Events between services: the CloudEvents envelope, JSON Schemas, the Kafka publisher and
consumer, and the transactional-outbox relay."""

from shopkit.events.envelope import CloudEvent, new_event, topic_for
from shopkit.events.outbox import OutboxMessage, OutboxRelay, OutboxStore
from shopkit.events.runtime import EventRuntime

__all__ = [
    "CloudEvent",
    "EventRuntime",
    "OutboxMessage",
    "OutboxRelay",
    "OutboxStore",
    "new_event",
    "topic_for",
]
