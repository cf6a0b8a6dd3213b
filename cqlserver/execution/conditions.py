"""Lightweight transactions: IF EXISTS, IF NOT EXISTS and IF conditions.

``check`` evaluates a statement's condition against current data;
``cas_result`` builds the ``[applied]`` rows Cassandra returns (with the
current values when not applied).
"""

from __future__ import annotations

from typing import Any

from cqlserver.cql import ast
from cqlserver.errors import InvalidRequest
from cqlserver.schema import Column, Table
from cqlserver.storage import Store
from cqlserver.types import BOOLEAN, UNSET, CqlType, split_collection

from .restrictions import int_param, term_value
from .results import Rows
from .selectors import column_value
from .writes import Write


def check(store: Store, s: Any, w: Write, values: list[Any], now: float) -> tuple[bool, Any]:
    data = store.data(w.table)
    p = data.partitions.get(w.pk)
    static = p.live_static(now) if p else {}
    ck = w.ck if w.ck is not None or w.table.clustering else ()
    row = data.get_row(w.pk, ck) if (ck is not None and p) else None
    cells = row.live_cells(now) if row and row.is_live(now) else None
    exists = bool(static) if ck is None else cells is not None
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
        if c.kind != "static" and ck is None:
            raise InvalidRequest(
                "DELETE statements must restrict all PRIMARY KEY columns with equality "
                "relations in order to delete non static columns"
                if isinstance(s, ast.Delete)
                else f"Some clustering keys are missing: {w.table.clustering[0].name}"
            )
        cur = static.get(c.name) if c.kind == "static" else (cells or {}).get(c.name)
        if not _condition_holds(c, cond, cur, values):
            ok = False
    return ok, info


def _condition_holds(c: Column, cond: ast.Condition, cur: bytes | None, values: list[Any]) -> bool:
    t = c.type
    if cond.element is not None:
        if t.kind == "map":
            key = term_value(cond.element, t.params[0], values, f"key({c.name})")
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
            idx = int_param(cond.element, values, f"idx({c.name})")
            t = t.params[0]
            elems = split_collection(cur) if cur else []
            cur = elems[idx] if idx is not None and 0 <= idx < len(elems) else None
        else:
            raise InvalidRequest(f"Invalid element access on column {c.name}")
    if cond.op == "IN":
        if isinstance(cond.term, list):
            opts = [term_value(x, t, values, c.name) for x in cond.term]
        else:
            lst = term_value(cond.term, CqlType("list", (t,)), values, f"in({c.name})")
            opts = [] if lst in (None, UNSET) else split_collection(lst)
        opts = [o for o in opts if o is not UNSET]
        if cur is None:
            return any(o is None for o in opts)
        return any(o is not None and t.sort_key(o) == t.sort_key(cur) for o in opts)
    v = term_value(cond.term, t, values, c.name)
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


def cas_result(applied: bool, checks: list[Any], batch: bool, now: float) -> Rows:
    table: Table = checks[0][1].table
    spec = (table.keyspace, table.name, "[applied]", BOOLEAN)
    flag = BOOLEAN.to_bytes(applied)
    if applied:
        return Rows([spec], [[flag]], skip_metadata_ok=False)
    wildcard = any(
        getattr(s, "if_not_exists", False) or getattr(s, "if_exists", False) for s, _, _ in checks
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
                column_value(c, w.pk, w.ck if info["cells"] is not None else None,
                              info["static"], info["cells"] or {})
                for c in cols
            ]
        )  # fmt: skip
    if not rows:
        return Rows([spec], [[flag]], skip_metadata_ok=False)
    specs = [spec] + [(table.keyspace, table.name, c.name, c.type) for c in cols]
    return Rows(specs, rows, skip_metadata_ok=False)
