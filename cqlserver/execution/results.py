"""What executing a statement returns, plus ``Prepared``.

``server`` encodes ``Void``, ``SetKeyspace``, ``SchemaChange`` and ``Rows`` as
RESULT frames; ``Prepared`` is a parsed statement with its bind-marker and
result-column metadata, cached by the ``Executor``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cqlserver.types import CqlType

ColSpec = tuple[str, str, str, CqlType]  # keyspace, table, name, type


@dataclass
class Void:
    pass


@dataclass
class SetKeyspace:
    keyspace: str


@dataclass
class SchemaChange:
    change: str  # CREATED, UPDATED, DROPPED
    target: str  # KEYSPACE, TABLE, TYPE
    keyspace: str
    name: str = ""


@dataclass
class Rows:
    columns: list[ColSpec]
    rows: list[list[bytes | None]]
    paging_state: bytes | None = None
    skip_metadata_ok: bool = True  # False for LWT results, whose columns vary


@dataclass
class Prepared:
    id: bytes
    query: str
    keyspace: str | None
    statement: Any
    bind_specs: list[ColSpec]
    pk_indexes: list[int]
    result_columns: list[ColSpec] | None  # None: no result metadata (non-SELECT)
    bind_names: list[str | None] = field(default_factory=list)
