"""Statement and term dataclasses produced by the parser and consumed by the executor."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


# ---- terms -------------------------------------------------------------------
@dataclass
class Literal:
    kind: str  # string, int, float, uuid, bool, null, blob, nan, infinity
    value: Any


@dataclass
class Collection:
    kind: str  # list, set, map, tuple
    items: list[Any]  # terms, or (key, value) term pairs for maps


@dataclass
class BindMarker:
    index: int
    name: str | None = None


@dataclass
class FunctionCall:
    name: str
    args: list[Any]


@dataclass
class TypeRef:
    name: str  # native name, list, set, map, tuple, frozen, or a UDT name
    params: list[TypeRef] = field(default_factory=list)
    keyspace: str | None = None


# ---- clauses -------------------------------------------------------------------
@dataclass
class Relation:
    column: str
    op: str  # =, <, >, <=, >=, !=, IN, CONTAINS, CONTAINS KEY
    term: Any  # a term, or for IN a list of terms or a single BindMarker


@dataclass
class Condition:
    column: str
    op: str
    term: Any
    element: Any = None  # col[element] = term


@dataclass
class Assignment:
    column: str
    op: str  # set, add, prepend, remove, setkey
    term: Any
    key: Any = None


@dataclass
class Selector:
    kind: str  # column, count, ttl, writetime, star
    column: str | None = None
    alias: str | None = None


# ---- statements ----------------------------------------------------------------
@dataclass
class Use:
    keyspace: str


@dataclass
class CreateKeyspace:
    name: str
    if_not_exists: bool
    options: dict[str, Any]


@dataclass
class ColumnDef:
    name: str
    type: TypeRef
    static: bool = False


@dataclass
class CreateTable:
    keyspace: str | None
    name: str
    if_not_exists: bool
    columns: list[ColumnDef]
    partition_key: list[str]
    clustering: list[str]
    clustering_order: dict[str, str]
    options: dict[str, Any]


@dataclass
class CreateType:
    keyspace: str | None
    name: str
    if_not_exists: bool
    fields: list[tuple[str, TypeRef]]


@dataclass
class CreateIndex:
    keyspace: str | None
    table: str
    name: str | None
    column: str
    if_not_exists: bool


@dataclass
class AlterTableAdd:
    keyspace: str | None
    name: str
    columns: list[ColumnDef]
    if_exists: bool = False  # ALTER TABLE IF EXISTS: nothing to do when the table is missing
    if_not_exists: bool = False  # ADD IF NOT EXISTS: columns that exist are skipped


@dataclass
class Drop:
    what: str  # KEYSPACE, TABLE, TYPE, INDEX
    keyspace: str | None
    name: str
    if_exists: bool


@dataclass
class Truncate:
    keyspace: str | None
    name: str


@dataclass
class Insert:
    keyspace: str | None
    table: str
    columns: list[str]
    values: list[Any]
    if_not_exists: bool = False
    ttl: Any = None
    timestamp: Any = None


@dataclass
class Update:
    keyspace: str | None
    table: str
    assignments: list[Assignment]
    where: list[Relation]
    conditions: list[Condition]
    if_exists: bool = False
    ttl: Any = None
    timestamp: Any = None


@dataclass
class Delete:
    keyspace: str | None
    table: str
    columns: list[tuple[str, Any]]  # (column, element term or None)
    where: list[Relation]
    conditions: list[Condition]
    if_exists: bool = False
    timestamp: Any = None


@dataclass
class Select:
    keyspace: str | None
    table: str
    selectors: list[Selector]
    where: list[Relation]
    distinct: bool = False
    order_by: list[tuple[str, str]] = field(default_factory=list)
    limit: Any = None
    per_partition_limit: Any = None
    allow_filtering: bool = False
    json: bool = False


@dataclass
class Batch:
    kind: str  # LOGGED, UNLOGGED, COUNTER
    statements: list[Any]
    timestamp: Any = None


MODIFICATIONS = (Insert, Update, Delete)
