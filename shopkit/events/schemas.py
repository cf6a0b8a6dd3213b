"""JSON Schemas of event types, kept in the repository beside each producer.

A service keeps one file per event type it emits, ``<dir>/<type>.json``, describing ``data``.
``EventSchemas.validate`` checks the envelope and the data; producers call it before an event
enters the outbox, and the tests call it on what reached Kafka.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from shopkit.events.envelope import CloudEvent

ENVELOPE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "source", "type", "subject", "time", "specversion", "data"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "source": {"type": "string", "minLength": 1},
        "type": {"type": "string", "pattern": "^[a-z_]+\\.[a-z_]+$"},
        "subject": {"type": "string", "minLength": 1},
        "time": {"type": "string", "format": "date-time"},
        "specversion": {"const": "1.0"},
        "datacontenttype": {"const": "application/json"},
        "data": {"type": "object"},
    },
}


class UnknownEventType(LookupError):
    pass


class EventSchemas:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._validators: dict[str, jsonschema.protocols.Validator] = {}
        for path in sorted(directory.glob("*.json")):
            schema = json.loads(path.read_text())
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            self._validators[path.stem] = cls(schema, format_checker=cls.FORMAT_CHECKER)
        self._envelope = jsonschema.Draft202012Validator(
            ENVELOPE_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )

    @property
    def types(self) -> list[str]:
        return sorted(self._validators)

    def validate(self, event: CloudEvent | dict[str, Any]) -> None:
        raw = event.to_dict() if isinstance(event, CloudEvent) else event
        self._envelope.validate(raw)
        validator = self._validators.get(raw["type"])
        if validator is None:
            raise UnknownEventType(f"no JSON Schema for event type {raw['type']!r}")
        validator.validate(raw["data"])
