"""JSON Schemas of event types, kept in the repository beside each producer.

A service keeps one file per event type it emits, ``subgraphs/<producer>/events/schemas/
<type>.json``, describing ``data``. ``EventSchemas.validate`` checks the envelope and the data;
``shopkit.events.cloud_event`` calls it (through ``producer_schemas``) before an event enters
the outbox, consumers call it (through ``ProducerSchemas``) before a handler sees an event,
and the tests call it on what reached Kafka.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema

from shopkit.events.envelope import CloudEvent
from shopkit.settings import REPO_ROOT

SUBGRAPHS_DIR = REPO_ROOT / "subgraphs"

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


def schemas_dir(producer: str, root: Path = SUBGRAPHS_DIR) -> Path:
    """Where ``producer`` keeps the JSON Schemas of the events it produces."""
    return root / producer / "events" / "schemas"


@functools.cache
def _schemas_in(folder: Path) -> EventSchemas:
    """A folder's schemas, read and checked once per process: checking a schema against its
    meta-schema costs about 0.1 s of CPU a folder, and every consumer's start reads them all."""
    return EventSchemas(folder)


def producer_schemas(producer: str) -> EventSchemas:
    """The JSON Schemas of what ``producer`` (a subgraph's folder name) produces, read once."""
    folder = schemas_dir(producer)
    if not folder.is_dir():
        raise UnknownEventType(f"{producer!r} keeps no event schemas (no {folder})")
    return _schemas_in(folder)


class ProducerSchemas:
    """The JSON Schemas of the given event types, found in their producers' folders: what a
    consumer checks the events it handles against."""

    def __init__(self, types: Iterable[str], root: Path = SUBGRAPHS_DIR) -> None:
        found: dict[str, EventSchemas] = {}
        for folder in sorted(root.glob("*/events/schemas")):
            schemas = _schemas_in(folder)
            found.update(dict.fromkeys(schemas.types, schemas))
        missing = sorted(set(types) - set(found))
        if missing:
            raise UnknownEventType(
                f"no producer under {root} has a JSON Schema for {', '.join(missing)}"
            )
        self._by_type = {t: found[t] for t in types}

    def validate(self, event: dict[str, Any]) -> None:
        schemas = self._by_type.get(str(event.get("type")))
        if schemas is None:
            raise UnknownEventType(f"no JSON Schema for event type {event.get('type')!r}")
        schemas.validate(event)
