"""SELECT: restrictions, ORDER BY, LIMIT / PER PARTITION LIMIT, paging, DISTINCT and COUNT.

The paging state handed to drivers is JSON: the last partition and clustering
key returned, rows produced so far, and rows produced in that partition.
"""

from __future__ import annotations

import json
import time
from typing import Any

from cqlserver.cql import ast
from cqlserver.errors import InvalidRequest, ProtocolError
from cqlserver.schema import Schema
from cqlserver.storage import Store
from cqlserver.types import BIGINT

from .restrictions import (
    clustering_filter,
    int_param,
    partition_keys,
    predicate,
    relations_by_column,
)
from .results import Rows
from .scan import scan
from .selectors import select_columns, selector_value

FILTERING_MSG = (
    "Cannot execute this query as it might involve data filtering and thus may have "
    "unpredictable performance. If you want to execute this query despite the performance "
    "unpredictability, use ALLOW FILTERING"
)


def run_select(
    schema: Schema,
    store: Store,
    stmt: ast.Select,
    values: list[Any],
    keyspace: str | None,
    page_size: int,
    paging_state: bytes | None,
) -> Rows:
    table = schema.table(stmt.keyspace or keyspace, stmt.table)
    specs, getters = select_columns(table, stmt)
    rels = relations_by_column(table, stmt.where)
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
                filters.append((table.columns[n], predicate(table.columns[n], r, values)))
    if other:
        if not af:
            raise InvalidRequest(FILTERING_MSG)
        for n, rs in other.items():
            for r in rs:
                filters.append((table.columns[n], predicate(table.columns[n], r, values)))
    ck_pred = None
    if ck_rel:
        if not lookup and not af:
            raise InvalidRequest(FILTERING_MSG)
        ck_pred = clustering_filter(table, ck_rel, values, strict=not af)
    if stmt.distinct and ck_rel:
        raise InvalidRequest(
            "SELECT DISTINCT with WHERE clause only supports restriction "
            "on partition key and/or static columns."
        )
    reverse = False
    if stmt.order_by:
        if not lookup:
            raise InvalidRequest(
                "ORDER BY is only supported when the partition key is restricted by an EQ or an IN."
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
    limit = int_param(stmt.limit, values, "[limit]")
    if limit is not None and limit <= 0:
        raise InvalidRequest("LIMIT must be strictly positive")
    ppl = int_param(stmt.per_partition_limit, values, "[per_partition_limit]")
    if ppl is not None and ppl <= 0:
        raise InvalidRequest("PER PARTITION LIMIT must be strictly positive")
    data = store.data(table)
    if lookup:
        pks = partition_keys(table, pk_rel, values)
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
    state = read_paging_state(paging_state) if paging_state else None
    now = time.time()
    counting = any(k == "count" for k, _ in getters)
    produced = state["n"] if state else 0
    out: list[list[bytes | None]] = []
    if counting:
        page_size = -1
    last: tuple[Any, Any, int] | None = None
    more = False
    total_cap = limit if limit is not None else None
    gen = scan(table, data, pks, state, ck_pred, filters, reverse, stmt.distinct, now)
    pp_count = state["pp"] if state else 0
    cur_pk = state["pk"] if state else None
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
        out.append([selector_value(g, pk, ck, static, cells, row_expiry, now) for g in getters])
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


def read_paging_state(raw: bytes) -> dict[str, Any]:
    """Decode a paging state this server handed out: keys as bytes, counters as ints.

    Anything else a client sends is answered like Cassandra does, with a protocol error.
    """
    bad = ProtocolError("Invalid value for the paging state")
    try:
        state = json.loads(raw)
        ck = state["ck"]
        pk = tuple(bytes.fromhex(x) for x in state["pk"])
        decoded = {
            "pk": pk,
            "ck": None if ck is None else tuple(bytes.fromhex(x) for x in ck),
            "n": state["n"],
            "pp": state["pp"],
        }
    except (ValueError, TypeError, KeyError) as e:  # incl. JSON and UTF-8 decoding errors
        raise bad from e
    if type(decoded["n"]) is not int or type(decoded["pp"]) is not int:
        raise bad
    return decoded
