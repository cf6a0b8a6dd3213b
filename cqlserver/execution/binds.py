"""Bind-marker metadata for PREPARE.

Works out the name and type of every ``?``/``:name`` marker in a statement,
and which markers give the partition key (drivers use them to route).
"""

from __future__ import annotations

from typing import Any

from cqlserver.cql import ast
from cqlserver.schema import Schema
from cqlserver.types import BIGINT, INT, CqlType, set_of


def collect_binds(
    schema: Schema, stmt: Any, keyspace: str | None, specs: list[Any], pk_idx: list[int]
) -> None:
    table = schema.table(stmt.keyspace or keyspace, stmt.table)
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
            # Only a Relation has .element; the getattr above has just found one.
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
