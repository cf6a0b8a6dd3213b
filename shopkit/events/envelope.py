"""The CloudEvents 1.0 envelope (JSON structured mode) every event travels in.

The event ``type`` is ``<aggregate>.<what happened>`` (``order.paid``); the topic is one per
aggregate (``shop.order``) and the Kafka key is the aggregate id, so the events of one order
stay ordered in one partition. Readers ignore envelope and data fields they do not know.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

SPEC_VERSION = "1.0"
TOPIC_PREFIX = "shop."


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

    @property
    def topic(self) -> str:
        return topic_for(self.type)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

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


def new_event(event_type: str, *, source: str, subject: str, data: dict[str, Any]) -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()),
        source=source,
        type=event_type,
        subject=subject,
        time=datetime.now(UTC).isoformat(),
        data=data,
    )
