"""Builds the events a use case emits, validated against their JSON Schemas before they
enter the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopkit.events import CloudEvent, new_event
from shopkit.events.schemas import EventSchemas

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "events" / "schemas"


class EventFactory:
    def __init__(self, source: str = "items", schemas: EventSchemas | None = None) -> None:
        self.source = source
        self.schemas = schemas or EventSchemas(SCHEMAS_DIR)

    def make(self, event_type: str, subject: str, data: dict[str, Any]) -> CloudEvent:
        event = new_event(event_type, source=self.source, subject=subject, data=data)
        self.schemas.validate(event)
        return event
