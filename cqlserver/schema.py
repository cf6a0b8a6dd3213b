"""Keyspace, table and user-type definitions, and the DDL that changes them."""

from __future__ import annotations

import uuid
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any

from .cql import ast
from .errors import AlreadyExists, ConfigurationError, CqlError, InvalidRequest
from .types import CqlType, native


@dataclass
class Column:
    name: str
    type: CqlType
    kind: str  # partition_key, clustering, static, regular
    position: int = -1  # index within the partition key / clustering columns
    order: str = "ASC"  # clustering order

    @property
    def is_primary_key(self) -> bool:
        return self.kind in ("partition_key", "clustering")


@dataclass
class Table:
    keyspace: str
    name: str
    columns: dict[str, Column]
    partition_key: list[Column]
    clustering: list[Column]
    options: dict[str, Any] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    virtual: bool = False

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Recompute derived column lists (after ALTER TABLE ADD)."""

        def ordered(kind: str) -> list[Column]:
            cols = [c for c in self.columns.values() if c.kind == kind]
            return sorted(cols, key=lambda c: (c.type.is_complex, c.name))

        self.statics = ordered("static")
        self.regulars = ordered("regular")
        # Cassandra's `SELECT *` order: partition key, clustering, statics, regulars
        self.star = self.partition_key + self.clustering + self.statics + self.regulars
        self.default_ttl = int(self.options.get("default_time_to_live", 0) or 0)

    @property
    def qualified(self) -> str:
        return f"{self.keyspace}.{self.name}"

    def column(self, name: str) -> Column:
        c = self.columns.get(name)
        if c is None:
            raise InvalidRequest(f"Undefined column name {name}")
        return c


@dataclass
class Keyspace:
    name: str
    replication: dict[str, str]
    durable_writes: bool = True
    tables: dict[str, Table] = field(default_factory=dict)
    types: dict[str, CqlType] = field(default_factory=dict)
    virtual: bool = False


class Schema:
    """All keyspaces; DDL methods return True when something changed."""

    def __init__(self) -> None:
        self.keyspaces: dict[str, Keyspace] = {}
        self.version = uuid.uuid4()

    def changed(self) -> None:
        self.version = uuid.uuid4()

    def keyspace(self, name: str | None) -> Keyspace:
        if name is None:
            raise InvalidRequest(
                "No keyspace has been specified. USE a keyspace, or explicitly "
                "specify keyspace.tablename"
            )
        ks = self.keyspaces.get(name)
        if ks is None:
            raise InvalidRequest(f"Keyspace {name} does not exist")
        return ks

    def table(self, keyspace: str | None, name: str) -> Table:
        ks = self.keyspace(keyspace)
        t = ks.tables.get(name)
        if t is None:
            raise InvalidRequest(f"unconfigured table {name}")
        return t

    # ---- types -----------------------------------------------------------------
    def resolve_type(self, ref: ast.TypeRef, keyspace: str | None, inner: bool = False) -> CqlType:
        n = ref.name
        if n == "frozen":
            return self.resolve_type(ref.params[0], keyspace, True).freeze()
        if n in ("list", "set"):
            if len(ref.params) != 1:
                raise InvalidRequest(f"Invalid {n} type")
            return CqlType(n, (self.resolve_type(ref.params[0], keyspace, True),), inner)
        if n == "map":
            if len(ref.params) != 2:
                raise InvalidRequest("Invalid map type")
            k = self.resolve_type(ref.params[0], keyspace, True)
            v = self.resolve_type(ref.params[1], keyspace, True)
            return CqlType("map", (k, v), inner)
        if n == "tuple":
            return CqlType(
                "tuple", tuple(self.resolve_type(p, keyspace, True) for p in ref.params), True
            )
        try:
            return native(n)
        except InvalidRequest:
            pass
        ks = self.keyspace(ref.keyspace or keyspace)
        t = ks.types.get(n)
        if t is None:
            raise InvalidRequest(f"Unknown type {ks.name}.{n}")
        return t.freeze() if inner else t

    # ---- DDL ---------------------------------------------------------------------
    def create_keyspace(self, stmt: ast.CreateKeyspace) -> bool:
        if _exists(stmt, self.keyspaces, AlreadyExists(stmt.name)):
            return False
        repl = stmt.options.get("replication")
        if not isinstance(repl, dict) or "class" not in repl:
            raise ConfigurationError("Missing mandatory option 'class' for replication strategy")
        cls = str(repl["class"])
        if "." not in cls:
            cls = "org.apache.cassandra.locator." + cls
        replication = {k: str(v) for k, v in repl.items()}
        replication["class"] = cls
        durable = stmt.options.get("durable_writes", True)
        self.keyspaces[stmt.name] = Keyspace(stmt.name, replication, bool(durable))
        self.changed()
        return True

    def create_table(self, stmt: ast.CreateTable, keyspace: str | None) -> bool:
        ks = self.keyspace(stmt.keyspace or keyspace)
        if _exists(stmt, ks.tables, AlreadyExists(ks.name, stmt.name)):
            return False
        if not stmt.partition_key:
            raise InvalidRequest("No PRIMARY KEY specifed (exactly one required)")
        cols: dict[str, Column] = {}
        for cd in stmt.columns:
            if cd.name in cols:
                raise InvalidRequest(f"Multiple definition of identifier {cd.name}")
            t = self.resolve_type(cd.type, ks.name)
            cols[cd.name] = Column(cd.name, t, "static" if cd.static else "regular")
        pk, ck = [], []
        for i, name in enumerate(stmt.partition_key):
            c = _primary_key_column(cols, name)
            c.kind, c.position = "partition_key", i
            pk.append(c)
        for i, name in enumerate(stmt.clustering):
            c = _primary_key_column(cols, name)
            if c.kind == "partition_key":
                raise InvalidRequest(f"{name} cannot be both partition key and clustering")
            c.kind, c.position = "clustering", i
            c.order = stmt.clustering_order.get(name, "ASC")
            ck.append(c)
        for name in stmt.clustering_order:
            if name not in stmt.clustering:
                raise InvalidRequest(
                    f"Missing CLUSTERING ORDER for column {name}"
                    if name in cols
                    else f"Unknown definition {name} referenced in CLUSTERING ORDER BY"
                )
        if (
            list(stmt.clustering_order)
            and list(stmt.clustering_order) != stmt.clustering[: len(stmt.clustering_order)]
        ):
            raise InvalidRequest(
                "The order of columns in the CLUSTERING ORDER directive must be the one "
                "of the clustering key"
            )
        for c in cols.values():
            if c.kind == "static" and not ck:
                raise InvalidRequest(
                    "Static columns are only useful (and thus allowed) if the table has at "
                    "least one clustering column"
                )
        ks.tables[stmt.name] = Table(ks.name, stmt.name, cols, pk, ck, dict(stmt.options))
        self.changed()
        return True

    def create_type(self, stmt: ast.CreateType, keyspace: str | None) -> bool:
        ks = self.keyspace(stmt.keyspace or keyspace)
        taken = InvalidRequest(f"A user type of name {ks.name}.{stmt.name} already exists")
        if _exists(stmt, ks.types, taken):
            return False
        names = tuple(n for n, _ in stmt.fields)
        types = tuple(self.resolve_type(t, ks.name, True) for _, t in stmt.fields)
        ks.types[stmt.name] = CqlType("udt", types, False, ks.name, stmt.name, names)
        self.changed()
        return True

    def alter_add(self, stmt: ast.AlterTableAdd, keyspace: str | None) -> Table | None:
        """Adds the columns; None when nothing changed (``IF EXISTS`` on a missing table, or
        ``IF NOT EXISTS`` and every column already there), as Cassandra answers."""
        ks = self.keyspace(stmt.keyspace or keyspace)
        t = ks.tables.get(stmt.name)
        if t is None:
            if stmt.if_exists:
                return None
            raise InvalidRequest(f"Table '{ks.name}.{stmt.name}' doesn't exist")
        added = []
        seen: set[str] = set()
        for cd in stmt.columns:
            if cd.name in t.columns or cd.name in seen:
                if stmt.if_not_exists:
                    continue
                raise InvalidRequest(f"Column with name '{cd.name}' already exists")
            seen.add(cd.name)
            added.append(cd)
        if not added:
            return None
        for cd in added:
            ctype = self.resolve_type(cd.type, t.keyspace)
            t.columns[cd.name] = Column(cd.name, ctype, "static" if cd.static else "regular")
        t.refresh()
        self.changed()
        return t

    def drop(self, stmt: ast.Drop, keyspace: str | None) -> bool:
        if stmt.what == "KEYSPACE":
            if stmt.name not in self.keyspaces:
                if stmt.if_exists:
                    return False
                raise ConfigurationError(f"Cannot drop non existing keyspace '{stmt.name}'.")
            del self.keyspaces[stmt.name]
        elif stmt.what == "INDEX":
            return False
        else:
            ks = self.keyspace(stmt.keyspace or keyspace)
            coll: dict[str, Any] = ks.tables if stmt.what == "TABLE" else ks.types
            if stmt.name not in coll:
                if stmt.if_exists:
                    return False
                if stmt.what == "TABLE":
                    raise InvalidRequest(f"Table '{ks.name}.{stmt.name}' doesn't exist")
                raise InvalidRequest(f"Type '{ks.name}.{stmt.name}' doesn't exist")
            del coll[stmt.name]
        self.changed()
        return True


def _exists(
    stmt: ast.CreateKeyspace | ast.CreateTable | ast.CreateType,
    existing: Container[str],
    error: CqlError,
) -> bool:
    """Whether a CREATE finds its name taken: then there is nothing to do (True) with IF NOT
    EXISTS, and without it Cassandra answers ``error``."""
    if stmt.name not in existing:
        return False
    if stmt.if_not_exists:
        return True
    raise error


def _primary_key_column(columns: dict[str, Column], name: str) -> Column:
    """The column a PRIMARY KEY names, partition or clustering: declared, and not a
    non-frozen collection (Cassandra refuses both with these messages)."""
    column = columns.get(name)
    if column is None:
        raise InvalidRequest(f"Unknown definition {name} referenced in PRIMARY KEY")
    if column.type.is_complex:
        raise InvalidRequest(f"Invalid non-frozen collection type for PRIMARY KEY component {name}")
    return column
