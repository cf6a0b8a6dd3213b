"""``Write``, one planned mutation of a partition, and how it is applied to the store.

Includes the collection operations (append, prepend, remove, set an element
by key or index) that need the current value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cqlserver.errors import InvalidRequest
from cqlserver.schema import Column, Table
from cqlserver.storage import INF, Store
from cqlserver.types import UNSET, join_collection, split_collection


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


def apply_write(store: Store, w: Write, now: float) -> None:
    if w.kind == "delete_partition":
        store.delete_partition(w.table, w.pk)
        return
    if w.kind == "delete_rows":
        if w.ck_filter is None:
            # A row delete without a clustering filter names one whole row: ck is set.
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
            if (
                c.type.is_collection
                and not c.type.frozen
                and val is not None
                and not split_collection(val, c.type.kind == "map")
            ):
                val = None
            target[c.name] = (val, w.expiry)
            continue
        if c.name in target:
            cur = target[c.name][0]
        elif c.kind == "static":
            cur = p.live_static(now).get(c.name) if p else None
        else:
            cur = row.live_cells(now).get(c.name) if row else None
        target[c.name] = (collection_op(c, op, cur, val, key), w.expiry)
    if w.ck is None:
        # static-only writes carry no clustering row
        if cells:
            raise InvalidRequest("Some clustering keys are missing")
        store.upsert(w.table, w.pk, None, None, {}, static)
    else:
        store.upsert(w.table, w.pk, w.ck, w.marker, cells, static)


def collection_op(c: Column, op: str, cur: bytes | None, val: Any, key: Any) -> bytes | None:
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
            return join_collection(flat, pairs=True) if flat else None
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
    return join_collection(flat, pairs=True) if flat else None
