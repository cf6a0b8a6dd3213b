"""The SELECT clause: which columns a query returns and how each is read from a row.

Covers ``*``, plain columns, ``COUNT(*)``, ``TTL()`` and the DISTINCT rules.
"""

from __future__ import annotations

from typing import Any

from cqlserver.cql import ast
from cqlserver.errors import InvalidRequest
from cqlserver.schema import Column, Table
from cqlserver.storage import INF
from cqlserver.types import BIGINT, INT

from .results import ColSpec


def select_columns(table: Table, stmt: ast.Select) -> tuple[list[ColSpec], list[Any]]:
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


def column_value(c: Column, pk, ck, static, cells) -> bytes | None:
    k = c.kind
    if k == "partition_key":
        return pk[c.position]
    if k == "clustering":
        return None if ck is None else ck[c.position]
    if k == "static":
        return static.get(c.name)
    return cells.get(c.name)


def selector_value(g, pk, ck, static, cells, row, now) -> bytes | None:
    kind, c = g
    if kind == "col":
        return column_value(c, pk, ck, static, cells)
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
