"""Statement execution: DDL, INSERT/UPDATE/DELETE (with lightweight transactions), BATCH, SELECT.

Everything here is synchronous and runs on the event loop, so one statement
(including its condition check and writes) is atomic with respect to every
other statement. Results are the small dataclasses at the top of this module;
``server.py`` encodes them as RESULT frames.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .cql import ast, parse
from .errors import InvalidRequest
from .schema import Column, Schema, Table
from .storage import INF, Partition, Store
from .types import BIGINT, BOOLEAN, INT, UNSET, CqlType, join_collection, set_of, split_collection
from .values import term_bytes

ColSpec = tuple[str, str, str, CqlType]  # keyspace, table, name, type

FILTERING_MSG = (
    "Cannot execute this query as it might involve data filtering and thus may have "
    "unpredictable performance. If you want to execute this query despite the performance "
    "unpredictability, use ALLOW FILTERING"
)


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


@dataclass
class Write:
    """One planned mutation of a single partition (and optionally one row)."""

    table: Table
    pk: tuple[bytes, ...]
    ck: tuple[bytes, ...] | None
    kind: str  # upsert, delete_partition, delete_rows, delete_cells
    marker: float | None = None
    ops: list[tuple[Column, str, Any, Any]] = field(default_factory=list)
    expiry: float = INF
    ck_filter: Any = None  # for range deletions


class Executor:
    def __init__(self, schema: Schema, store: Store) -> None:
        self.schema = schema
        self.store = store
        self.prepared: dict[bytes, Prepared] = {}
        self._parse_cache: OrderedDict[tuple[str, str | None], Prepared] = OrderedDict()
        self.on_schema_change: Any = None
        self.on_ddl: Any = None  # callback to refresh system tables

    # ---- preparing --------------------------------------------------------------------
    def prepare(self, query: str, keyspace: str | None, cache: bool = True) -> Prepared:
        key = (query, keyspace)
        p = self._parse_cache.get(key)
        if p is not None:
            self._parse_cache.move_to_end(key)
            if cache:
                self.prepared[p.id] = p
            return p
        stmt, nbinds, names = parse(query)
        pid = hashlib.md5(((keyspace or "") + "\x00" + query).encode()).digest()
        specs: list[ColSpec | None] = [None] * nbinds
        pk_idx: list[int] = []
        result_cols: list[ColSpec] | None = None
        if isinstance(stmt, ast.Batch):
            for s in stmt.statements:
                self._collect_binds(s, keyspace, specs, [])
        elif isinstance(stmt, (*ast.MODIFICATIONS, ast.Select)):
            pk_idx = []
            self._collect_binds(stmt, keyspace, specs, pk_idx)
            if isinstance(stmt, ast.Select):
                table = self.schema.table(stmt.keyspace or keyspace, stmt.table)
                result_cols = self._select_columns(table, stmt)[0]
        blob = CqlType("blob")
        final = [s if s is not None else ("", "", f"bind{i}", blob) for i, s in enumerate(specs)]
        p = Prepared(pid, query, keyspace, stmt, final, pk_idx, result_cols, names)
        self._parse_cache[key] = p
        if len(self._parse_cache) > 5000:
            self._parse_cache.popitem(last=False)
        if cache:
            self.prepared[pid] = p
        return p

    def _collect_binds(
        self, stmt: Any, keyspace: str | None, specs: list[Any], pk_idx: list[int]
    ) -> None:
        table = self.schema.table(stmt.keyspace or keyspace, stmt.table)
        ks, tn = table.keyspace, table.name

        def put(term: Any, name: str, t: CqlType) -> None:
            if isinstance(term, ast.BindMarker):
                specs[term.index] = (ks, tn, term.name or name, t)
            elif isinstance(term, ast.Collection):
                if t.kind in ("list", "set"):
                    for x in term.items:
                        put(x, name, t.params[0])
                elif t.kind == "map" and term.kind == "map":
                    for k, v in term.items:
                        put(k, name, t.params[0])
                        put(v, name, t.params[1])
                elif t.kind == "tuple":
                    for x, et in zip(term.items, t.params, strict=False):
                        put(x, name, et)
                elif t.kind == "udt" and term.kind == "udt":
                    types = dict(zip(t.field_names, t.params, strict=True))
                    for f, x in term.items:
                        if f in types:
                            put(x, name, types[f])

        def rel(r: ast.Relation | ast.Condition) -> None:
            c = table.column(r.column)
            if getattr(r, "element", None) is not None:
                el = r.element  # type: ignore[union-attr]
                if c.type.kind == "map":
                    put(el, f"key({c.name})", c.type.params[0])
                    put(r.term, f"value({c.name})", c.type.params[1])
                else:
                    put(el, f"idx({c.name})", INT)
                    put(r.term, f"value({c.name})", c.type.params[0])
                return
            if r.op == "IN":
                if isinstance(r.term, list):
                    for x in r.term:
                        put(x, c.name, c.type)
                else:
                    put(r.term, f"in({c.name})", CqlType("list", (c.type.freeze(),)))
            elif r.op == "CONTAINS":
                put(r.term, c.name, c.type.params[-1])
            elif r.op == "CONTAINS KEY":
                put(r.term, c.name, c.type.params[0])
            else:
                put(r.term, c.name, c.type)
                if c.kind == "partition_key" and r.op == "=" and isinstance(r.term, ast.BindMarker):
                    pk_pos[c.position] = r.term.index

        pk_pos: dict[int, int] = {}
        if isinstance(stmt, ast.Insert):
            for name, term in zip(stmt.columns, stmt.values, strict=False):
                c = table.column(name)
                put(term, c.name, c.type)
                if c.kind == "partition_key" and isinstance(term, ast.BindMarker):
                    pk_pos[c.position] = term.index
        if isinstance(stmt, ast.Update):
            for a in stmt.assignments:
                c = table.column(a.column)
                if a.op == "setkey":
                    if c.type.kind == "map":
                        put(a.key, f"key({c.name})", c.type.params[0])
                        put(a.term, f"value({c.name})", c.type.params[1])
                    else:
                        put(a.key, f"idx({c.name})", INT)
                        put(a.term, f"value({c.name})", c.type.params[0])
                elif a.op == "remove" and c.type.kind == "map":
                    put(a.term, c.name, set_of(c.type.params[0], True))
                else:
                    put(a.term, c.name, c.type)
        if isinstance(stmt, ast.Delete):
            for name, el in stmt.columns:
                c = table.column(name)
                if el is not None:
                    put(el, f"key({c.name})" if c.type.kind == "map" else f"idx({c.name})",
                        c.type.params[0] if c.type.kind == "map" else INT)  # fmt: skip
        for r in getattr(stmt, "where", []):
            rel(r)
        for cond in getattr(stmt, "conditions", []):
            rel(cond)
        if getattr(stmt, "ttl", None) is not None:
            put(stmt.ttl, "[ttl]", INT)
        if getattr(stmt, "timestamp", None) is not None:
            put(stmt.timestamp, "[timestamp]", BIGINT)
        if isinstance(stmt, ast.Select):
            if stmt.limit is not None:
                put(stmt.limit, "[limit]", INT)
            if stmt.per_partition_limit is not None:
                put(stmt.per_partition_limit, "[per_partition_limit]", INT)
        if len(pk_pos) == len(table.partition_key):
            pk_idx.extend(pk_pos[i] for i in range(len(table.partition_key)))

    # ---- dispatch -----------------------------------------------------------------------
    def execute(
        self,
        p: Prepared,
        values: list[Any],
        keyspace: str | None,
        page_size: int = -1,
        paging_state: bytes | None = None,
    ) -> Any:
        stmt = p.statement
        ks = p.keyspace if p.keyspace is not None else keyspace
        if isinstance(stmt, ast.Select):
            return self.select(stmt, values, ks, page_size, paging_state)
        if isinstance(stmt, ast.MODIFICATIONS):
            return self.modify([stmt], values, ks, batch=False)
        if isinstance(stmt, ast.Batch):
            return self.modify(stmt.statements, values, ks, batch=True)
        if isinstance(stmt, ast.Use):
            self.schema.keyspace(stmt.keyspace)
            return SetKeyspace(stmt.keyspace)
        return self.ddl(stmt, p.query, ks)

    def ddl(self, stmt: Any, query: str, keyspace: str | None, replay: bool = False) -> Any:
        result: Any = Void()
        sch = self.schema
        if isinstance(stmt, ast.CreateKeyspace):
            self._refuse_system(stmt.name)
            if sch.create_keyspace(stmt):
                result = SchemaChange("CREATED", "KEYSPACE", stmt.name)
        elif isinstance(stmt, ast.CreateTable):
            ks = stmt.keyspace or keyspace
            self._refuse_system(ks)
            if sch.create_table(stmt, keyspace):
                result = SchemaChange("CREATED", "TABLE", sch.keyspace(ks).name, stmt.name)
        elif isinstance(stmt, ast.CreateType):
            ks = stmt.keyspace or keyspace
            self._refuse_system(ks)
            if sch.create_type(stmt, keyspace):
                result = SchemaChange("CREATED", "TYPE", sch.keyspace(ks).name, stmt.name)
        elif isinstance(stmt, ast.AlterTableAdd):
            t = sch.alter_add(stmt, keyspace)
            result = SchemaChange("UPDATED", "TABLE", t.keyspace, t.name)
        elif isinstance(stmt, ast.CreateIndex):
            raise InvalidRequest("Secondary indexes are not supported by this server")
        elif isinstance(stmt, ast.Drop):
            ks = stmt.keyspace or keyspace if stmt.what != "KEYSPACE" else stmt.name
            self._refuse_system(ks)
            if sch.drop(stmt, keyspace):
                if stmt.what == "KEYSPACE":
                    for q in [q for q in self.store.tables if q.startswith(stmt.name + ".")]:
                        self.store.drop(q)
                    result = SchemaChange("DROPPED", "KEYSPACE", stmt.name)
                else:
                    if stmt.what == "TABLE":
                        self.store.drop(f"{ks}.{stmt.name}")
                    result = SchemaChange("DROPPED", stmt.what, ks or "", stmt.name)
        elif isinstance(stmt, ast.Truncate):
            t = sch.table(stmt.keyspace or keyspace, stmt.name)
            self._refuse_system(t.keyspace)
            self.store.begin()
            self.store.truncate(t)
            self.store.end()
            return Void()
        else:
            raise InvalidRequest(f"Unsupported statement {type(stmt).__name__}")
        if isinstance(result, SchemaChange):
            self._parse_cache.clear()
            if not replay:
                self.store.log_ddl(query, keyspace)
            if self.on_ddl:
                self.on_ddl()
        return result

    def _refuse_system(self, ks: str | None) -> None:
        if ks is not None and ks in self.schema.keyspaces and self.schema.keyspaces[ks].virtual:
            raise InvalidRequest(f"Cannot modify system keyspace {ks}")

    # ---- key handling ----------------------------------------------------------------
    def _value(self, term: Any, c: Column | CqlType, values: list[Any], name: str = "") -> Any:
        if isinstance(c, Column):
            return term_bytes(term, c.type, values, c.name)
        return term_bytes(term, c, values, name)

    def _key_values(self, c: Column, r: ast.Relation, values: list[Any]) -> list[bytes]:
        if r.op == "=":
            vals = [self._value(r.term, c, values)]
        elif r.op == "IN":
            if isinstance(r.term, list):
                vals = [self._value(x, c, values) for x in r.term]
            else:
                lst = self._value(r.term, CqlType("list", (c.type,)), values, f"in({c.name})")
                if lst is None:
                    raise InvalidRequest(f"Invalid null value for {c.name}")
                if lst is UNSET:
                    raise InvalidRequest(f"Invalid unset value for column {c.name}")
                vals = list(split_collection(lst))
        else:
            raise InvalidRequest(f"Invalid operator {r.op} for column {c.name}")
        for v in vals:
            if v is None:
                raise InvalidRequest(f"Invalid null value in condition for column {c.name}")
            if v is UNSET:
                raise InvalidRequest(f"Invalid unset value for column {c.name}")
        seen: dict[Any, bytes] = {}
        for v in vals:
            seen.setdefault(c.type.sort_key(v), v)
        return [seen[k] for k in sorted(seen)] if r.op == "IN" else list(seen.values())

    def _int_param(self, term: Any, values: list[Any], name: str) -> int | None:
        if term is None:
            return None
        b = self._value(term, INT, values, name)
        if b is None or b is UNSET:
            return None
        return int.from_bytes(b, "big", signed=True)

    def _relations(self, table: Table, where: list[ast.Relation]) -> dict[str, list[ast.Relation]]:
        out: dict[str, list[ast.Relation]] = {}
        for r in where:
            c = table.column(r.column)
            out.setdefault(c.name, []).append(r)
        return out

    def _partition_keys(
        self, table: Table, rels: dict[str, list[ast.Relation]], values: list[Any]
    ) -> list[tuple[bytes, ...]]:
        missing = [c.name for c in table.partition_key if c.name not in rels]
        if missing:
            raise InvalidRequest("Some partition key parts are missing: " + ", ".join(missing))
        per_col = []
        for c in table.partition_key:
            r = rels[c.name][0]
            if r.op not in ("=", "IN"):
                raise InvalidRequest(
                    "Only EQ and IN relation are supported on the partition key "
                    "(unless you use the token() function)"
                )
            vals = self._key_values(c, r, values)
            for v in vals:
                if not v and len(table.partition_key) == 1:
                    raise InvalidRequest("Key may not be empty")
            per_col.append(vals)
        return [tuple(p) for p in itertools.product(*per_col)]

    # ---- modifications ----------------------------------------------------------------
    def _plan(self, stmt: Any, values: list[Any], keyspace: str | None, now: float) -> list[Write]:
        table = self.schema.table(stmt.keyspace or keyspace, stmt.table)
        self._refuse_system(table.keyspace)
        if isinstance(stmt, ast.Insert):
            return self._plan_insert(table, stmt, values, now)
        rels = self._relations(table, stmt.where)
        for name in rels:
            if not table.columns[name].is_primary_key:
                raise InvalidRequest(f"Non PRIMARY KEY columns found in where clause: {name} ")
        pks = self._partition_keys(table, rels, values)
        ck_rels = [(c, rels.get(c.name)) for c in table.clustering]
        full = all(r is not None and r[0].op in ("=", "IN") for _, r in ck_rels)
        if isinstance(stmt, ast.Update):
            return self._plan_update(table, stmt, values, now, pks, ck_rels, full)
        return self._plan_delete(table, stmt, values, pks, ck_rels, full)

    def _expiry(self, table: Table, ttl_term: Any, values: list[Any], now: float) -> float:
        ttl = self._int_param(ttl_term, values, "[ttl]")
        if ttl is None:
            ttl = table.default_ttl
        if ttl < 0:
            raise InvalidRequest(f"A TTL must be greater or equal to 0, but was {ttl}")
        if ttl > 630720000:
            raise InvalidRequest(f"ttl is too large. requested ({ttl}) maximum (630720000)")
        return now + ttl if ttl else INF

    def _full_cks(
        self, table: Table, ck_rels: list[Any], values: list[Any]
    ) -> list[tuple[bytes, ...]]:
        per = [self._key_values(c, rs[0], values) for c, rs in ck_rels]
        return [tuple(x) for x in itertools.product(*per)]

    def _plan_insert(
        self, table: Table, stmt: ast.Insert, values: list[Any], now: float
    ) -> list[Write]:
        if len(stmt.columns) != len(stmt.values):
            raise InvalidRequest("Unmatched column names/values")
        given: dict[str, Any] = {}
        for name, term in zip(stmt.columns, stmt.values, strict=True):
            c = table.column(name)
            if c.name in given:
                raise InvalidRequest(f"Multiple definitions found for column {c.name}")
            given[c.name] = (c, term)
        missing = [c.name for c in table.partition_key if c.name not in given]
        if missing:
            raise InvalidRequest("Some partition key parts are missing: " + ", ".join(missing))
        static_only = all(given[n][0].kind in ("partition_key", "static") for n in given)
        missing = [c.name for c in table.clustering if c.name not in given]
        if missing and not (static_only and len(missing) == len(table.clustering)):
            raise InvalidRequest("Some clustering keys are missing: " + ", ".join(missing))
        pk = []
        for c in table.partition_key:
            v = self._value(given[c.name][1], c, values)
            if v is None:
                raise InvalidRequest(f"Invalid null value in condition for column {c.name}")
            if v is UNSET:
                raise InvalidRequest(f"Invalid unset value for column {c.name}")
            if not v and len(table.partition_key) == 1:
                raise InvalidRequest("Key may not be empty")
            pk.append(v)
        ck: tuple[bytes, ...] | None = None
        if not missing:
            cks = []
            for c in table.clustering:
                v = self._value(given[c.name][1], c, values)
                if v is None or v is UNSET:
                    what = "null" if v is None else "unset"
                    raise InvalidRequest(f"Invalid {what} value in condition for column {c.name}")
                cks.append(v)
            ck = tuple(cks)
        expiry = self._expiry(table, stmt.ttl, values, now)
        w = Write(table, tuple(pk), ck, "upsert", None if ck is None else expiry, expiry=expiry)
        for c, term in given.values():
            if not c.is_primary_key:
                w.ops.append((c, "set", self._value(term, c, values), None))
        return [w]

    def _plan_update(self, table, stmt, values, now, pks, ck_rels, full) -> list[Write]:  # type: ignore[no-untyped-def]
        ops = []
        for a in stmt.assignments:
            c = table.column(a.column)
            if c.is_primary_key:
                raise InvalidRequest(f"PRIMARY KEY part {c.name} found in SET part")
            t = c.type
            if a.op in ("add", "remove", "prepend") and not t.is_collection:
                sign = "+" if a.op != "remove" else "-"
                raise InvalidRequest(
                    f"Invalid operation ({c.name} = {c.name} {sign} ?) for non counter column "
                    f"{c.name}"
                )
            if a.op != "set" and t.frozen:
                raise InvalidRequest(f"Invalid operation for frozen collection column {c.name}")
            if a.op == "setkey":
                if t.kind == "map":
                    key = self._value(a.key, t.params[0], values, f"key({c.name})")
                    val = self._value(a.term, t.params[1], values, f"value({c.name})")
                elif t.kind == "list":
                    key = self._int_param(a.key, values, f"idx({c.name})")
                    val = self._value(a.term, t.params[0], values, f"value({c.name})")
                else:
                    raise InvalidRequest(f"Invalid operation ({c.name}[?] = ?) for set column")
                ops.append((c, "setkey", val, key))
            elif a.op == "remove" and t.kind == "map":
                ops.append(
                    (
                        c,
                        "remove",
                        self._value(a.term, set_of(t.params[0], True), values, c.name),
                        None,
                    )
                )
            else:
                ops.append((c, a.op, self._value(a.term, c, values), None))
        static_only = all(c.kind == "static" for c, *_ in ops)
        restricted = [c.name for c, r in ck_rels if r]
        if not full:
            if static_only and not restricted:
                cks: list[Any] = [None]
            else:
                missing = [c.name for c, r in ck_rels if not r]
                raise InvalidRequest("Some clustering keys are missing: " + ", ".join(missing))
        else:
            cks = self._full_cks(table, ck_rels, values) if table.clustering else [()]
        expiry = self._expiry(table, stmt.ttl, values, now)
        return [Write(table, pk, ck, "upsert", None, list(ops), expiry) for pk in pks for ck in cks]

    def _plan_delete(self, table, stmt, values, pks, ck_rels, full) -> list[Write]:  # type: ignore[no-untyped-def]
        ops: list[tuple[Column, str, Any, Any]] = []
        for name, el in stmt.columns:
            c = table.column(name)
            if c.is_primary_key:
                raise InvalidRequest(
                    f"Invalid identifier {c.name} for deletion (should not be a PRIMARY KEY part)"
                )
            if el is None:
                ops.append((c, "set", None, None))
            elif c.type.kind == "map":
                ops.append((c, "setkey", None, self._value(el, c.type.params[0], values, c.name)))
            elif c.type.kind == "list":
                ops.append((c, "setkey", None, self._int_param(el, values, f"idx({c.name})")))
            else:
                raise InvalidRequest(f"Invalid element deletion for column {c.name}")
        restricted = [(c, r) for c, r in ck_rels if r]
        if full:
            cks = self._full_cks(table, ck_rels, values) if table.clustering else [()]
            if ops:
                return [Write(table, pk, ck, "upsert", None, ops) for pk in pks for ck in cks]
            if not table.clustering:
                return [Write(table, pk, None, "delete_partition") for pk in pks]
            return [Write(table, pk, ck, "delete_rows") for pk in pks for ck in cks]
        if not restricted:
            if ops:
                if any(c.kind != "static" for c, *_ in ops):
                    raise InvalidRequest(
                        "Some clustering keys are missing: " + ", ".join(c.name for c, _ in ck_rels)
                    )
                return [Write(table, pk, None, "upsert", None, ops) for pk in pks]
            return [Write(table, pk, None, "delete_partition") for pk in pks]
        if ops:
            raise InvalidRequest("Range deletions are not supported for specific columns")
        pred = self._clustering_filter(table, {c.name: r for c, r in restricted}, values, True)
        return [Write(table, pk, None, "delete_rows", ck_filter=pred) for pk in pks]

    def _apply(self, w: Write, now: float) -> None:
        store = self.store
        if w.kind == "delete_partition":
            store.delete_partition(w.table, w.pk)
            return
        if w.kind == "delete_rows":
            if w.ck_filter is None:
                store.delete_rows(w.table, w.pk, [w.ck])  # type: ignore[list-item]
                return
            p = store.data(w.table).partitions.get(w.pk)
            if p is not None:
                cks = [r.ck for r in p.rows.values() if w.ck_filter(r.ck)]
                if cks:
                    store.delete_rows(w.table, w.pk, cks)
            return
        data = store.data(w.table)
        p = data.partitions.get(w.pk)
        row = data.get_row(w.pk, w.ck) if w.ck is not None else None
        cells: dict[str, tuple[bytes | None, float]] = {}
        static: dict[str, tuple[bytes | None, float]] = {}
        for c, op, val, key in w.ops:
            target = static if c.kind == "static" else cells
            if val is UNSET:
                continue
            if op == "set":
                if c.type.is_collection and not c.type.frozen and val is not None:
                    if not split_collection(val, c.type.kind == "map"):
                        val = None
                target[c.name] = (val, w.expiry)
                continue
            if c.name in target:
                cur = target[c.name][0]
            elif c.kind == "static":
                cur = p.live_static(now).get(c.name) if p else None
            else:
                cur = row.live_cells(now).get(c.name) if row else None
            target[c.name] = (_collection_op(c, op, cur, val, key), w.expiry)
        if w.ck is None:
            # static-only writes carry no clustering row
            if cells:
                raise InvalidRequest("Some clustering keys are missing")
            store.upsert(w.table, w.pk, None, None, {}, static)
        else:
            store.upsert(w.table, w.pk, w.ck, w.marker, cells, static)

    def modify_prepared(self, items: list[tuple[Prepared, list[Any]]], keyspace: str | None) -> Any:
        """Execute a protocol BATCH: each prepared statement with its own values."""
        triples = [
            (p.statement, vals, p.keyspace if p.keyspace is not None else keyspace)
            for p, vals in items
        ]
        return self.modify_many(triples, batch=True)

    def modify(self, stmts: list[Any], values: list[Any], keyspace: str | None, batch: bool) -> Any:
        return self.modify_many([(s, values, keyspace) for s in stmts], batch)

    def modify_many(self, items: list[tuple[Any, list[Any], str | None]], batch: bool) -> Any:
        now = time.time()
        writes: list[Write] = []
        per_stmt: list[tuple[Any, list[Write], list[Any]]] = []
        for s, vals, ks in items:
            ws = self._plan(s, vals, ks, now)
            per_stmt.append((s, ws, vals))
            writes.extend(ws)
        conditional = [
            (s, ws, vals) for s, ws, vals in per_stmt
            if getattr(s, "conditions", None) or getattr(s, "if_exists", False)
            or getattr(s, "if_not_exists", False)
        ]  # fmt: skip
        if not conditional:
            self.store.begin()
            for w in writes:
                self._apply(w, now)
            self.store.end()
            return Void()
        if batch:
            tables = {w.table.qualified for w in writes}
            if len(tables) > 1:
                raise InvalidRequest("Batch with conditions cannot span multiple tables")
            if len({w.pk for w in writes}) > 1:
                raise InvalidRequest("Batch with conditions cannot span multiple partitions")
        for s, ws, _ in conditional:
            if len(ws) != 1:
                raise InvalidRequest(
                    "IN on the partition key is not supported with conditional updates"
                    if len({w.pk for w in ws}) > 1
                    else "IN on the clustering key columns is not supported with conditional "
                    "updates"
                )
            if ws[0].kind == "delete_rows" and ws[0].ck_filter is not None:
                raise InvalidRequest(
                    "DELETE statements must restrict all PRIMARY KEY columns with equality "
                    "relations in order to delete non static columns"
                )
            if getattr(s, "timestamp", None) is not None:
                raise InvalidRequest("Cannot provide custom timestamp for conditional updates")
        applied = True
        checks = []
        for s, ws, vals in conditional:
            ok, info = self._check(s, ws[0], vals, now)
            applied = applied and ok
            checks.append((s, ws[0], info))
        if applied:
            self.store.begin()
            for w in writes:
                self._apply(w, now)
            self.store.end()
        return self._cas_result(applied, checks, batch, now)

    def _check(self, s: Any, w: Write, values: list[Any], now: float) -> tuple[bool, Any]:
        data = self.store.data(w.table)
        p = data.partitions.get(w.pk)
        static = p.live_static(now) if p else {}
        ck = w.ck if w.ck is not None or w.table.clustering else ()
        row = data.get_row(w.pk, ck) if (ck is not None and p) else None
        cells = row.live_cells(now) if row and row.is_live(now) else None
        if ck is None:
            exists = bool(static)
        else:
            exists = cells is not None
        info = {"static": static, "cells": cells, "exists": exists, "pk": w.pk, "ck": w.ck}
        if getattr(s, "if_not_exists", False):
            return not exists, info
        if getattr(s, "if_exists", False):
            return exists, info
        ok = True
        for cond in s.conditions:
            c = w.table.column(cond.column)
            if c.is_primary_key:
                raise InvalidRequest(f"PRIMARY KEY column '{c.name}' cannot have IF conditions")
            if c.kind != "static" and w.ck is None:
                raise InvalidRequest(
                    "DELETE statements must restrict all PRIMARY KEY columns with equality "
                    "relations in order to delete non static columns"
                    if isinstance(s, ast.Delete)
                    else f"Some clustering keys are missing: {w.table.clustering[0].name}"
                )
            cur = static.get(c.name) if c.kind == "static" else (cells or {}).get(c.name)
            if not self._condition_holds(c, cond, cur, values):
                ok = False
        return ok, info

    def _condition_holds(
        self, c: Column, cond: ast.Condition, cur: bytes | None, values: list[Any]
    ) -> bool:
        t = c.type
        if cond.element is not None:
            if t.kind == "map":
                key = self._value(cond.element, t.params[0], values, f"key({c.name})")
                t = t.params[1]
                found = None
                if cur:
                    e = split_collection(cur, True)
                    ks = t.sort_key
                    for i in range(0, len(e), 2):
                        if c.type.params[0].sort_key(e[i]) == c.type.params[0].sort_key(key):
                            found = e[i + 1]
                    del ks
                cur = found
            elif t.kind == "list":
                idx = self._int_param(cond.element, values, f"idx({c.name})")
                t = t.params[0]
                elems = split_collection(cur) if cur else []
                cur = elems[idx] if idx is not None and 0 <= idx < len(elems) else None
            else:
                raise InvalidRequest(f"Invalid element access on column {c.name}")
        if cond.op == "IN":
            if isinstance(cond.term, list):
                opts = [self._value(x, t, values, c.name) for x in cond.term]
            else:
                lst = self._value(cond.term, CqlType("list", (t,)), values, f"in({c.name})")
                opts = [] if lst in (None, UNSET) else split_collection(lst)
            opts = [o for o in opts if o is not UNSET]
            if cur is None:
                return any(o is None for o in opts)
            return any(o is not None and t.sort_key(o) == t.sort_key(cur) for o in opts)
        v = self._value(cond.term, t, values, c.name)
        if v is UNSET:
            raise InvalidRequest(f"Invalid unset value for column {c.name}")
        if cond.op in ("=", "!="):
            if cur is None or v is None:
                eq = cur is None and v is None
            else:
                eq = t.sort_key(cur) == t.sort_key(v)
            return eq if cond.op == "=" else not eq
        if v is None:
            raise InvalidRequest(f'Invalid comparison with null for operator "{cond.op}"')
        if cur is None:
            return False
        a, b = t.sort_key(cur), t.sort_key(v)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[cond.op]

    def _cas_result(self, applied: bool, checks: list[Any], batch: bool, now: float) -> Rows:
        table: Table = checks[0][1].table
        spec = (table.keyspace, table.name, "[applied]", BOOLEAN)
        flag = BOOLEAN.to_bytes(applied)
        if applied:
            return Rows([spec], [[flag]], skip_metadata_ok=False)
        wildcard = any(
            getattr(s, "if_not_exists", False) or getattr(s, "if_exists", False)
            for s, _, _ in checks
        )
        cols: list[Column] = []
        if wildcard:
            cols = list(table.star)
        else:
            if batch:
                cols = list(table.partition_key) + list(table.clustering)
            for s, _, _ in checks:
                for cond in s.conditions:
                    c = table.column(cond.column)
                    if c not in cols:
                        cols.append(c)
        rows = []
        seen = set()
        for _, w, info in checks:
            key = (w.pk, w.ck)
            if key in seen:
                continue
            seen.add(key)
            if wildcard and not info["exists"]:
                continue
            if not info["exists"] and not info["static"]:
                continue
            if not wildcard and info["cells"] is None and not any(c.kind == "static" for c in cols):
                continue
            rows.append(
                [flag]
                + [
                    _column_value(c, w.pk, w.ck if info["cells"] is not None else None,
                                  info["static"], info["cells"] or {})
                    for c in cols
                ]
            )  # fmt: skip
        if not rows:
            return Rows([spec], [[flag]], skip_metadata_ok=False)
        specs = [spec] + [(table.keyspace, table.name, c.name, c.type) for c in cols]
        return Rows(specs, rows, skip_metadata_ok=False)

    # ---- SELECT ---------------------------------------------------------------------------
    def _select_columns(self, table: Table, stmt: ast.Select) -> tuple[list[ColSpec], list[Any]]:
        specs: list[ColSpec] = []
        getters: list[Any] = []
        ks, tn = table.keyspace, table.name
        if stmt.json:
            raise InvalidRequest("SELECT JSON is not supported by this server")
        for sel in stmt.selectors:
            if sel.kind == "star":
                for c in table.star:
                    specs.append((ks, tn, c.name, c.type))
                    getters.append(("col", c))
            elif sel.kind == "column":
                c = table.column(sel.column or "")
                specs.append((ks, tn, sel.alias or c.name, c.type))
                getters.append(("col", c))
            elif sel.kind == "count":
                specs.append((ks, tn, sel.alias or "count", BIGINT))
                getters.append(("count", None))
            elif sel.kind == "ttl":
                c = table.column(sel.column or "")
                if c.is_primary_key:
                    raise InvalidRequest(
                        f"Cannot use selection function ttl on PRIMARY KEY part {c.name}"
                    )
                specs.append((ks, tn, sel.alias or f"ttl({c.name})", INT))
                getters.append(("ttl", c))
            elif sel.kind == "writetime":
                raise InvalidRequest("writetime() is not supported by this server")
        if stmt.distinct:
            for _, c in getters:
                if c is not None and c.kind not in ("partition_key", "static"):
                    raise InvalidRequest(
                        "SELECT DISTINCT queries must only request partition key columns "
                        f"and/or static columns (not {c.name})"
                    )
            chosen = {c.name for _, c in getters if c is not None}
            missing = [c.name for c in table.partition_key if c.name not in chosen]
            if missing and not any(k == "count" for k, _ in getters):
                raise InvalidRequest(
                    "SELECT DISTINCT queries must request all the partition key columns "
                    f"(missing {', '.join(missing)})"
                )
        return specs, getters

    def _clustering_filter(
        self, table: Table, rels: dict[str, Any], values: list[Any], strict: bool
    ) -> Any:
        """Build a predicate on clustering tuples; validates Cassandra's prefix rules."""
        preds = []
        prev_non_eq: str | None = None
        prev_missing: str | None = None
        for c in table.clustering:
            rs = rels.get(c.name)
            if not rs:
                prev_missing = prev_missing or c.name
                continue
            if isinstance(rs, ast.Relation):
                rs = [rs]
            if strict and prev_missing:
                raise InvalidRequest(
                    f'PRIMARY KEY column "{c.name}" cannot be restricted as preceding column '
                    f'"{prev_missing}" is not restricted'
                )
            if strict and prev_non_eq:
                raise InvalidRequest(
                    f'Clustering column "{c.name}" cannot be restricted (preceding column '
                    f'"{prev_non_eq}" is restricted by a non-EQ relation)'
                )
            for r in rs:
                preds.append((c.position, self._predicate(c, r, values)))
                if r.op not in ("=", "IN"):
                    prev_non_eq = c.name

        def pred(ck: tuple[bytes | None, ...]) -> bool:
            return all(p(ck[i]) for i, p in preds)

        return pred

    def _predicate(self, c: Column, r: ast.Relation, values: list[Any]) -> Any:
        t = c.type
        sk = t.sort_key
        if r.op == "IN":
            wanted = {sk(v) for v in self._key_values(c, r, values)}
            return lambda v: v is not None and sk(v) in wanted
        if r.op in ("CONTAINS", "CONTAINS KEY"):
            et = t.params[0] if r.op == "CONTAINS KEY" or t.kind != "map" else t.params[1]
            want = et.sort_key(self._value(r.term, et, values, c.name))
            is_map = t.kind == "map"

            def contains(v: bytes | None) -> bool:
                if not v:
                    return False
                e = split_collection(v, is_map)
                if is_map:
                    e = e[0::2] if r.op == "CONTAINS KEY" else e[1::2]
                return any(et.sort_key(x) == want for x in e)

            return contains
        v = self._value(r.term, c, values)
        if v is UNSET:
            raise InvalidRequest(f"Invalid unset value for column {c.name}")
        if v is None:
            if r.op == "=":
                return lambda cur: cur is None
            raise InvalidRequest(f"Invalid null value for column {c.name}")
        k = sk(v)
        op = r.op
        if op == "=":
            return lambda cur: cur is not None and sk(cur) == k
        if op == "!=":
            return lambda cur: cur is None or sk(cur) != k
        if op == "<":
            return lambda cur: cur is not None and sk(cur) < k
        if op == "<=":
            return lambda cur: cur is not None and sk(cur) <= k
        if op == ">":
            return lambda cur: cur is not None and sk(cur) > k
        if op == ">=":
            return lambda cur: cur is not None and sk(cur) >= k
        raise InvalidRequest(f"Unsupported operator {op}")

    def select(
        self, stmt: ast.Select, values: list[Any], keyspace: str | None, page_size: int,
        paging_state: bytes | None,
    ) -> Rows:  # fmt: skip
        table = self.schema.table(stmt.keyspace or keyspace, stmt.table)
        specs, getters = self._select_columns(table, stmt)
        rels = self._relations(table, stmt.where)
        af = stmt.allow_filtering
        pk_names = {c.name for c in table.partition_key}
        ck_names = {c.name for c in table.clustering}
        pk_rel = {n: r for n, r in rels.items() if n in pk_names}
        ck_rel = {n: r for n, r in rels.items() if n in ck_names}
        other = {n: r for n, r in rels.items() if n not in pk_names and n not in ck_names}
        lookup = len(pk_rel) == len(pk_names) and all(
            rs[0].op in ("=", "IN") and len(rs) == 1 for rs in pk_rel.values()
        )
        filters: list[Any] = []  # (column, predicate)
        if not lookup and pk_rel:
            if not af:
                raise InvalidRequest(FILTERING_MSG)
            for n, rs in pk_rel.items():
                for r in rs:
                    filters.append((table.columns[n], self._predicate(table.columns[n], r, values)))
        if other:
            if not af:
                raise InvalidRequest(FILTERING_MSG)
            for n, rs in other.items():
                for r in rs:
                    filters.append((table.columns[n], self._predicate(table.columns[n], r, values)))
        ck_pred = None
        if ck_rel:
            if not lookup and not af:
                raise InvalidRequest(FILTERING_MSG)
            ck_pred = self._clustering_filter(table, ck_rel, values, strict=not af)
        if stmt.distinct and ck_rel:
            raise InvalidRequest(
                "SELECT DISTINCT with WHERE clause only supports restriction "
                "on partition key and/or static columns."
            )
        reverse = False
        if stmt.order_by:
            if not lookup:
                raise InvalidRequest(
                    "ORDER BY is only supported when the partition key is restricted by an EQ "
                    "or an IN."
                )
            dirs = []
            for i, (name, d) in enumerate(stmt.order_by):
                c = table.column(name)
                if c.kind != "clustering":
                    raise InvalidRequest(
                        "Order by is currently only supported on the clustered columns of the "
                        f"PRIMARY KEY, got {name}"
                    )
                if c.position != i:
                    raise InvalidRequest(
                        "Order by currently only supports the ordering of columns following "
                        "their declared order in the PRIMARY KEY"
                    )
                dirs.append(d != c.order)
            if len(set(dirs)) > 1:
                raise InvalidRequest("Unsupported order by relation")
            reverse = dirs[0]
        limit = self._int_param(stmt.limit, values, "[limit]")
        if limit is not None and limit <= 0:
            raise InvalidRequest("LIMIT must be strictly positive")
        ppl = self._int_param(stmt.per_partition_limit, values, "[per_partition_limit]")
        if ppl is not None and ppl <= 0:
            raise InvalidRequest("PER PARTITION LIMIT must be strictly positive")
        data = self.store.data(table)
        if lookup:
            pks = self._partition_keys(table, pk_rel, values)
            if not table.virtual:
                pks.sort()
        else:
            pks = sorted(data.partitions)
        if (
            stmt.order_by
            and len(pks) > 1
            and page_size > 0
            and not any(k == "count" for k, _ in getters)
        ):
            raise InvalidRequest(
                "Cannot page queries with both ORDER BY and a IN restriction on the partition "
                "key; you must either remove the ORDER BY or the IN and sort client side, or "
                "disable paging for this query"
            )
        state = json.loads(paging_state) if paging_state else None
        now = time.time()
        counting = any(k == "count" for k, _ in getters)
        produced = state["n"] if state else 0
        out: list[list[bytes | None]] = []
        if counting:
            page_size = -1
        last: tuple[Any, Any, int] | None = None
        more = False
        total_cap = limit if limit is not None else None
        gen = self._scan(table, data, pks, state, ck_pred, filters, reverse, stmt.distinct, now)
        pp_count = state["pp"] if state else 0
        cur_pk = tuple(bytes.fromhex(x) for x in state["pk"]) if state else None
        count = 0
        for pk, ck, static, cells, row_expiry in gen:
            if pk != cur_pk:
                cur_pk, pp_count = pk, 0
            if ppl is not None and pp_count >= ppl:
                continue
            if total_cap is not None and produced >= total_cap:
                break
            if page_size > 0 and len(out) >= page_size:
                more = True
                break
            pp_count += 1
            produced += 1
            if counting:
                count += 1
                continue
            out.append([_getter(g, pk, ck, static, cells, row_expiry, now) for g in getters])
            last = (pk, ck, pp_count)
        if counting:
            specs_out = specs
            row = [BIGINT.to_bytes(count) if k == "count" else None for k, _ in getters]
            return Rows(specs_out, [row])
        ps = None
        if more and last is not None:
            ps = json.dumps(
                {"pk": [b.hex() for b in last[0]],
                 "ck": None if last[1] is None else [b.hex() for b in last[1]],
                 "n": produced, "pp": last[2]}
            ).encode()  # fmt: skip
        return Rows(specs, out, ps)

    def _scan(self, table, data, pks, state, ck_pred, filters, reverse, distinct, now):  # type: ignore[no-untyped-def]
        """Yield (pk, ck, static, cells, expiry-of-row) in result order, resuming after state."""
        start_pk = tuple(bytes.fromhex(x) for x in state["pk"]) if state else None
        start_ck = state["ck"] if state else None
        started = state is None
        for pk in pks:
            resume_ck = None
            if not started:
                if pk != start_pk:
                    if pk < start_pk:  # type: ignore[operator]
                        continue
                    started = True
                else:
                    started = True
                    if start_ck is None:
                        continue  # that partition was finished (static row / distinct)
                    resume_ck = tuple(bytes.fromhex(x) for x in start_ck)
            p: Partition | None = data.partitions.get(pk)
            if p is None:
                continue
            static = p.live_static(now)
            if distinct:
                if static or any(r.is_live(now) for r in p.rows.values()):
                    if _passes(filters, pk, None, static, {}):
                        yield pk, None, static, {}, None
                continue
            start = 0
            if resume_ck is not None:
                import bisect

                key = data.sort_key(resume_ck)
                if reverse:
                    start = len(p.keys) - bisect.bisect_left(p.keys, key)
                else:
                    start = bisect.bisect_right(p.keys, key)
            any_row = False
            for row in data.iter_rows(p, start, reverse):
                if not row.is_live(now):
                    continue
                any_row = True
                if ck_pred is not None and not ck_pred(row.ck):
                    continue
                cells = row.live_cells(now)
                if filters and not _passes(filters, pk, row.ck, static, cells):
                    continue
                yield pk, row.ck, static, cells, row
            if not any_row and resume_ck is None and static and ck_pred is None:
                if not p.rows or not any(r.is_live(now) for r in p.rows.values()):
                    if _passes(filters, pk, None, static, {}):
                        yield pk, None, static, {}, None


def _passes(filters, pk, ck, static, cells) -> bool:  # type: ignore[no-untyped-def]
    for c, pred in filters:
        if not pred(_column_value(c, pk, ck, static, cells)):
            return False
    return True


def _column_value(c: Column, pk, ck, static, cells) -> bytes | None:  # type: ignore[no-untyped-def]
    k = c.kind
    if k == "partition_key":
        return pk[c.position]  # type: ignore[no-any-return]
    if k == "clustering":
        return None if ck is None else ck[c.position]
    if k == "static":
        return static.get(c.name)  # type: ignore[no-any-return]
    return cells.get(c.name)  # type: ignore[no-any-return]


def _getter(g, pk, ck, static, cells, row, now) -> bytes | None:  # type: ignore[no-untyped-def]
    kind, c = g
    if kind == "col":
        return _column_value(c, pk, ck, static, cells)
    if kind == "ttl":
        if c.kind == "static":
            return None
        if row is None or c.name not in row.cells:
            return None
        exp = row.cells[c.name][1]
        if exp == INF:
            return None
        return INT.to_bytes(max(0, int(exp - now + 0.999)))
    return None


def _collection_op(c: Column, op: str, cur: bytes | None, val: Any, key: Any) -> bytes | None:
    t = c.type
    kind = t.kind
    is_map = kind == "map"
    elems = split_collection(cur, is_map) if cur else []
    if op == "setkey":
        if is_map:
            kt = t.params[0]
            pairs = {
                kt.sort_key(elems[i]): (elems[i], elems[i + 1]) for i in range(0, len(elems), 2)
            }
            if val is None:
                pairs.pop(kt.sort_key(key), None)
            else:
                pairs[kt.sort_key(key)] = (key, val)
            flat = [x for k in sorted(pairs) for x in pairs[k]]
            return join_collection(flat, pairs=True) if flat else None  # type: ignore[arg-type]
        if key is None or not 0 <= key < len(elems):
            raise InvalidRequest(f"List index {key} out of bound, list has size {len(elems)}")
        if val is None:
            del elems[key]
        else:
            elems[key] = val
        return join_collection(elems) if elems else None
    if val is None:
        return cur if op != "set" else None
    new = split_collection(val, is_map and op != "remove")
    if kind == "list":
        if op == "add":
            elems = elems + new
        elif op == "prepend":
            elems = new + elems
        else:
            drop = set(new)
            elems = [e for e in elems if e not in drop]
        return join_collection(elems) if elems else None
    if kind == "set":
        et = t.params[0]
        d = {et.sort_key(e): e for e in elems}
        for e in new:
            if op == "add":
                d[et.sort_key(e)] = e
            else:
                d.pop(et.sort_key(e), None)
        return join_collection([d[k] for k in sorted(d)]) if d else None
    kt = t.params[0]
    pairs = {kt.sort_key(elems[i]): (elems[i], elems[i + 1]) for i in range(0, len(elems), 2)}
    if op == "add":
        for i in range(0, len(new), 2):
            pairs[kt.sort_key(new[i])] = (new[i], new[i + 1])
    else:  # remove: val is a set of keys
        for k in split_collection(val):
            pairs.pop(kt.sort_key(k), None)
    flat = [x for k in sorted(pairs) for x in pairs[k]]
    return join_collection(flat, pairs=True) if flat else None  # type: ignore[arg-type]
