"""Running modifications: a single INSERT/UPDATE/DELETE or a BATCH.

All statements are planned first; if any has an IF clause the batch must stay
in one partition and is checked as one compare-and-set. The writes are then
applied together between ``store.begin()`` and ``store.end()``.
"""

from __future__ import annotations

import time
from typing import Any

from cqlserver.errors import InvalidRequest
from cqlserver.schema import Schema
from cqlserver.storage import Store

from .conditions import cas_result, check
from .modify import plan
from .results import Void
from .writes import Write, apply_write


def run_modifications(
    schema: Schema, store: Store, items: list[tuple[Any, list[Any], str | None]], batch: bool
) -> Any:
    now = time.time()
    writes: list[Write] = []
    per_stmt: list[tuple[Any, list[Write], list[Any]]] = []
    for s, vals, ks in items:
        ws = plan(schema, s, vals, ks, now)
        per_stmt.append((s, ws, vals))
        writes.extend(ws)
    conditional = [
        (s, ws, vals) for s, ws, vals in per_stmt
        if getattr(s, "conditions", None) or getattr(s, "if_exists", False)
        or getattr(s, "if_not_exists", False)
    ]  # fmt: skip
    if not conditional:
        store.begin()
        for w in writes:
            apply_write(store, w, now)
        store.end()
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
                else "IN on the clustering key columns is not supported with conditional updates"
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
        ok, info = check(store, s, ws[0], vals, now)
        applied = applied and ok
        checks.append((s, ws[0], info))
    if applied:
        store.begin()
        for w in writes:
            apply_write(store, w, now)
        store.end()
    return cas_result(applied, checks, batch, now)
