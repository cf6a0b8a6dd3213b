"""Walking a table's partitions and rows in result order for SELECT.

Resumes after a paging state, honours reversed clustering order, applies the
clustering predicate and ALLOW FILTERING filters, and yields static-only rows.
"""

from __future__ import annotations

from cqlserver.storage import Partition

from .selectors import column_value


def scan(table, data, pks, state, ck_pred, filters, reverse, distinct, now):
    """Yield (pk, ck, static, cells, expiry-of-row) in result order, resuming after state."""
    start_pk = state["pk"] if state else None
    start_ck = state["ck"] if state else None
    started = state is None
    for pk in pks:
        resume_ck = None
        if not started:
            if pk != start_pk:
                if pk < start_pk:
                    continue
                started = True
            else:
                started = True
                if start_ck is None:
                    continue  # that partition was finished (static row / distinct)
                resume_ck = start_ck
        p: Partition | None = data.partitions.get(pk)
        if p is None:
            continue
        static = p.live_static(now)
        if distinct:
            live = static or any(r.is_live(now) for r in p.rows.values())
            if live and passes(filters, pk, None, static, {}):
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
            if filters and not passes(filters, pk, row.ck, static, cells):
                continue
            yield pk, row.ck, static, cells, row
        # A partition with only its static row reads as one row of nulls and the static.
        if (
            not any_row
            and resume_ck is None
            and static
            and ck_pred is None
            and not any(r.is_live(now) for r in p.rows.values())
            and passes(filters, pk, None, static, {})
        ):
            yield pk, None, static, {}, None


def passes(filters, pk, ck, static, cells) -> bool:
    return all(pred(column_value(c, pk, ck, static, cells)) for c, pred in filters)
