"""The CloudEvents 1.0 envelope (JSON structured mode) every event travels in.

The event ``type`` is ``<aggregate>.<what happened>`` (``order.paid``); the topic is one per
aggregate (``shop.order``) and the Kafka key is the aggregate id (the event's ``subject``), so
the events of one order stay ordered in one partition. Readers ignore envelope and data fields
they do not know.

``headers`` travel beside the event, not in it: string pairs written with the event in its
outbox row, sent as the Kafka record's headers, and handed back to the consumer's handler on
the event it receives (the trace context of issue 14 goes there). They are not part of the
JSON value, so they never change an event's id, schema or payload. Names starting with
``shop-`` are the kit's own (dead-letter and replay bookkeeping) and are not handed to
handlers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

SPEC_VERSION = "1.0"
TOPIC_PREFIX = "shop."
KIT_HEADER_PREFIX = "shop-"


def topic_for(event_type: str) -> str:
    aggregate, _, _ = event_type.partition(".")
    return f"{TOPIC_PREFIX}{aggregate}"


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    subject: str
    time: str
    data: dict[str, Any] = field(default_factory=dict)
    specversion: str = SPEC_VERSION
    datacontenttype: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        return topic_for(self.type)

    def with_headers(self, headers: Mapping[str, str]) -> CloudEvent:
        return replace(self, headers=dict(headers))

    def to_dict(self) -> dict[str, Any]:
        """The JSON value of the event (without its headers)."""
        raw = asdict(self)
        del raw["headers"]
        return raw

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CloudEvent:
        return cls(
            id=str(raw["id"]),
            source=str(raw["source"]),
            type=str(raw["type"]),
            subject=str(raw.get("subject", "")),
            time=str(raw.get("time", "")),
            data=dict(raw.get("data") or {}),
            specversion=str(raw.get("specversion", SPEC_VERSION)),
            datacontenttype=str(raw.get("datacontenttype", "application/json")),
        )

    @classmethod
    def from_json(cls, payload: str | bytes) -> CloudEvent:
        return cls.from_dict(json.loads(payload))


def new_event(
    event_type: str,
    *,
    source: str,
    subject: str,
    data: dict[str, Any],
    id: str | None = None,
    time: datetime | None = None,
    headers: Mapping[str, str] | None = None,
) -> CloudEvent:
    """A CloudEvent as it is, without a schema check: services build theirs from domain
    events with ``shopkit.events.cloud_event``; tests use this for other producers' events."""
    return CloudEvent(
        id=id or str(uuid.uuid4()),
        source=source,
        type=event_type,
        subject=subject,
        time=(time or datetime.now(UTC)).isoformat(),
        data=data,
        headers=dict(headers or {}),
    )
