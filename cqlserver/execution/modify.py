"""Planning INSERT, UPDATE and DELETE into ``Write``s.

Validates keys and assignments, evaluates USING TTL (and the table default),
and produces one ``Write`` per partition or row a statement touches; nothing
is written here (see ``writes`` and ``batch``).
"""

from __future__ import annotations

import itertools
from typing import Any

from cqlserver.cql import ast
from cqlserver.errors import InvalidRequest
from cqlserver.schema import Column, Schema, Table
from cqlserver.storage import INF
from cqlserver.types import UNSET, set_of

from .ddl import refuse_system
from .restrictions import (
    clustering_filter,
    int_param,
    key_values,
    partition_keys,
    relations_by_column,
    term_value,
)
from .writes import Write


def plan(
    schema: Schema, stmt: Any, values: list[Any], keyspace: str | None, now: float
) -> list[Write]:
    table = schema.table(stmt.keyspace or keyspace, stmt.table)
    refuse_system(schema, table.keyspace)
    if isinstance(stmt, ast.Insert):
        return _plan_insert(table, stmt, values, now)
    rels = relations_by_column(table, stmt.where)
    for name in rels:
        if not table.columns[name].is_primary_key:
            raise InvalidRequest(f"Non PRIMARY KEY columns found in where clause: {name} ")
    pks = partition_keys(table, rels, values)
    ck_rels = [(c, rels.get(c.name)) for c in table.clustering]
    full = all(r is not None and r[0].op in ("=", "IN") for _, r in ck_rels)
    if isinstance(stmt, ast.Update):
        return _plan_update(table, stmt, values, now, pks, ck_rels, full)
    return _plan_delete(table, stmt, values, pks, ck_rels, full)


def _expiry(table: Table, ttl_term: Any, values: list[Any], now: float) -> float:
    ttl = int_param(ttl_term, values, "[ttl]")
    if ttl is None:
        ttl = table.default_ttl
    if ttl < 0:
        raise InvalidRequest(f"A TTL must be greater or equal to 0, but was {ttl}")
    if ttl > 630720000:
        raise InvalidRequest(f"ttl is too large. requested ({ttl}) maximum (630720000)")
    return now + ttl if ttl else INF


def _full_cks(table: Table, ck_rels: list[Any], values: list[Any]) -> list[tuple[bytes, ...]]:
    per = [key_values(c, rs[0], values) for c, rs in ck_rels]
    return [tuple(x) for x in itertools.product(*per)]


def _plan_insert(table: Table, stmt: ast.Insert, values: list[Any], now: float) -> list[Write]:
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
        v = term_value(given[c.name][1], c, values)
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
            v = term_value(given[c.name][1], c, values)
            if v is None or v is UNSET:
                what = "null" if v is None else "unset"
                raise InvalidRequest(f"Invalid {what} value in condition for column {c.name}")
            cks.append(v)
        ck = tuple(cks)
    expiry = _expiry(table, stmt.ttl, values, now)
    w = Write(table, tuple(pk), ck, "upsert", None if ck is None else expiry, expiry=expiry)
    for c, term in given.values():
        if not c.is_primary_key:
            w.ops.append((c, "set", term_value(term, c, values), None))
    return [w]


def _plan_update(table, stmt, values, now, pks, ck_rels, full) -> list[Write]:
    ops = []
    for a in stmt.assignments:
        c = table.column(a.column)
        if c.is_primary_key:
            raise InvalidRequest(f"PRIMARY KEY part {c.name} found in SET part")
        t = c.type
        if a.op in ("add", "remove", "prepend") and not t.is_collection:
            sign = "+" if a.op != "remove" else "-"
            raise InvalidRequest(
                f"Invalid operation ({c.name} = {c.name} {sign} ?) for non counter column {c.name}"
            )
        if a.op != "set" and t.frozen:
            raise InvalidRequest(f"Invalid operation for frozen collection column {c.name}")
        if a.op == "setkey":
            if t.kind == "map":
                key = term_value(a.key, t.params[0], values, f"key({c.name})")
                val = term_value(a.term, t.params[1], values, f"value({c.name})")
            elif t.kind == "list":
                key = int_param(a.key, values, f"idx({c.name})")
                val = term_value(a.term, t.params[0], values, f"value({c.name})")
            else:
                raise InvalidRequest(f"Invalid operation ({c.name}[?] = ?) for set column")
            ops.append((c, "setkey", val, key))
        elif a.op == "remove" and t.kind == "map":
            ops.append(
                (
                    c,
                    "remove",
                    term_value(a.term, set_of(t.params[0], True), values, c.name),
                    None,
                )
            )
        else:
            ops.append((c, a.op, term_value(a.term, c, values), None))
    static_only = all(c.kind == "static" for c, *_ in ops)
    restricted = [c.name for c, r in ck_rels if r]
    if not full:
        if static_only and not restricted:
            cks: list[Any] = [None]
        else:
            missing = [c.name for c, r in ck_rels if not r]
            raise InvalidRequest("Some clustering keys are missing: " + ", ".join(missing))
    else:
        cks = _full_cks(table, ck_rels, values) if table.clustering else [()]
    expiry = _expiry(table, stmt.ttl, values, now)
    return [Write(table, pk, ck, "upsert", None, list(ops), expiry) for pk in pks for ck in cks]


def _plan_delete(table, stmt, values, pks, ck_rels, full) -> list[Write]:
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
            ops.append((c, "setkey", None, term_value(el, c.type.params[0], values, c.name)))
        elif c.type.kind == "list":
            ops.append((c, "setkey", None, int_param(el, values, f"idx({c.name})")))
        else:
            raise InvalidRequest(f"Invalid element deletion for column {c.name}")
    restricted = [(c, r) for c, r in ck_rels if r]
    if full:
        cks = _full_cks(table, ck_rels, values) if table.clustering else [()]
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
    pred = clustering_filter(table, {c.name: r for c, r in restricted}, values, True)
    return [Write(table, pk, None, "delete_rows", ck_filter=pred) for pk in pks]
