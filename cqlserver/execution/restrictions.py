"""Bound terms and WHERE relations turned into bytes, key values and predicates.

Shared by SELECT (filters, clustering ranges), UPDATE/DELETE (which
partitions and rows they touch) and IF conditions.
"""

from __future__ import annotations

import itertools
from typing import Any

from cqlserver.cql import ast
from cqlserver.errors import InvalidRequest
from cqlserver.schema import Column, Table
from cqlserver.types import INT, UNSET, CqlType, split_collection
from cqlserver.values import term_bytes


def term_value(term: Any, c: Column | CqlType, values: list[Any], name: str = "") -> Any:
    if isinstance(c, Column):
        return term_bytes(term, c.type, values, c.name)
    return term_bytes(term, c, values, name)


def key_values(c: Column, r: ast.Relation, values: list[Any]) -> list[bytes]:
    if r.op == "=":
        vals = [term_value(r.term, c, values)]
    elif r.op == "IN":
        if isinstance(r.term, list):
            vals = [term_value(x, c, values) for x in r.term]
        else:
            lst = term_value(r.term, CqlType("list", (c.type,)), values, f"in({c.name})")
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


def int_param(term: Any, values: list[Any], name: str) -> int | None:
    if term is None:
        return None
    b = term_value(term, INT, values, name)
    if b is None or b is UNSET:
        return None
    return int.from_bytes(b, "big", signed=True)


def relations_by_column(table: Table, where: list[ast.Relation]) -> dict[str, list[ast.Relation]]:
    out: dict[str, list[ast.Relation]] = {}
    for r in where:
        c = table.column(r.column)
        out.setdefault(c.name, []).append(r)
    return out


def partition_keys(
    table: Table, rels: dict[str, list[ast.Relation]], values: list[Any]
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
        vals = key_values(c, r, values)
        for v in vals:
            if not v and len(table.partition_key) == 1:
                raise InvalidRequest("Key may not be empty")
        per_col.append(vals)
    return [tuple(p) for p in itertools.product(*per_col)]


def clustering_filter(table: Table, rels: dict[str, Any], values: list[Any], strict: bool) -> Any:
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
            preds.append((c.position, predicate(c, r, values)))
            if r.op not in ("=", "IN"):
                prev_non_eq = c.name

    def pred(ck: tuple[bytes | None, ...]) -> bool:
        return all(p(ck[i]) for i, p in preds)

    return pred


def predicate(c: Column, r: ast.Relation, values: list[Any]) -> Any:
    t = c.type
    sk = t.sort_key
    if r.op == "IN":
        wanted = {sk(v) for v in key_values(c, r, values)}
        return lambda v: v is not None and sk(v) in wanted
    if r.op in ("CONTAINS", "CONTAINS KEY"):
        et = t.params[0] if r.op == "CONTAINS KEY" or t.kind != "map" else t.params[1]
        want = et.sort_key(term_value(r.term, et, values, c.name))
        is_map = t.kind == "map"

        def contains(v: bytes | None) -> bool:
            if not v:
                return False
            e = split_collection(v, is_map)
            if is_map:
                e = e[0::2] if r.op == "CONTAINS KEY" else e[1::2]
            return any(et.sort_key(x) == want for x in e)

        return contains
    v = term_value(r.term, c, values)
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
