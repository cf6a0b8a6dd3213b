"""In-memory table data (sorted partitions) and the optional append-only mutation log.

Every cell holds its serialized value and an expiry time (``math.inf`` when it
has no TTL). Rows of a partition are kept sorted by their clustering sort key,
honouring ``CLUSTERING ORDER BY``.

Atomicity: mutations are applied synchronously on the event loop, so a
statement (or a batch) that reads, checks its conditions and writes never
interleaves with another one; this is what makes lightweight transactions
linearizable per partition without explicit locks.

Durability: with a data directory each statement's final mutations are appended
as one JSON line to ``commitlog.jsonl``; ``commit()`` (awaited before the reply is
sent) writes and fsyncs pending lines in groups. At start the log is replayed and
then compacted: rewritten (via a temporary file, fsync and rename) as the DDL
records followed by the current data, so it grows only with what is stored, and a
torn final line left by a crash is dropped before new lines are appended after it.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import math
import os
import time
from collections.abc import Iterator, Mapping
from functools import total_ordering
from typing import Any, TextIO

from .schema import Table

INF = math.inf
Cell = tuple[bytes, float]  # (value, expiry)


@total_ordering
class Desc:
    """Wraps a sort key to reverse its order (for DESC clustering columns)."""

    __slots__ = ("k",)

    def __init__(self, k: Any) -> None:
        self.k = k

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Desc) and self.k == other.k

    def __lt__(self, other: Desc) -> bool:
        return other.k < self.k

    def __hash__(self) -> int:
        return hash(self.k)


class Row:
    __slots__ = ("cells", "ck", "marker")

    def __init__(self, ck: tuple[bytes, ...]) -> None:
        self.ck = ck
        self.marker: float | None = None
        self.cells: dict[str, Cell] = {}

    def live_cells(self, now: float) -> dict[str, bytes]:
        return {k: v for k, (v, exp) in self.cells.items() if exp > now}

    def is_live(self, now: float) -> bool:
        if self.marker is not None and self.marker > now:
            return True
        return any(exp > now for _, exp in self.cells.values())


class Partition:
    __slots__ = ("keys", "pk", "rows", "static")

    def __init__(self, pk: tuple[bytes, ...]) -> None:
        self.pk = pk
        self.static: dict[str, Cell] = {}
        self.keys: list[Any] = []  # sorted clustering sort keys
        self.rows: dict[Any, Row] = {}

    def live_static(self, now: float) -> dict[str, bytes]:
        return {k: v for k, (v, exp) in self.static.items() if exp > now}

    def is_empty(self) -> bool:
        return not self.static and not self.rows


class TableData:
    """The partitions of one table."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.partitions: dict[tuple[bytes, ...], Partition] = {}

    def sort_key(self, ck: tuple[bytes | None, ...]) -> tuple[Any, ...]:
        out = []
        for col, v in zip(self.table.clustering, ck, strict=False):
            k = col.type.sort_key(v)
            out.append(Desc(k) if col.order == "DESC" else k)
        return tuple(out)

    def get_row(self, pk: tuple[bytes, ...], ck: tuple[bytes, ...]) -> Row | None:
        p = self.partitions.get(pk)
        if p is None:
            return None
        return p.rows.get(self.sort_key(ck))

    def iter_rows(self, p: Partition, start: int = 0, reverse: bool = False) -> Iterator[Row]:
        keys = p.keys
        if reverse:
            for i in range(len(keys) - 1 - start, -1, -1):
                yield p.rows[keys[i]]
        else:
            for i in range(start, len(keys)):
                yield p.rows[keys[i]]

    # ---- mutations ---------------------------------------------------------------
    def upsert(
        self,
        pk: tuple[bytes, ...],
        ck: tuple[bytes, ...] | None,
        marker: float | None,
        cells: dict[str, tuple[bytes | None, float]],
        static: dict[str, tuple[bytes | None, float]],
    ) -> None:
        p = self.partitions.get(pk)
        if p is None:
            p = self.partitions[pk] = Partition(pk)
        for name, (v, exp) in static.items():
            if v is None:
                p.static.pop(name, None)
            else:
                p.static[name] = (v, exp)
        if ck is not None:
            key = self.sort_key(ck)
            row = p.rows.get(key)
            if row is None:
                if marker is None and all(v is None for v, _ in cells.values()):
                    self._drop_if_empty(p)
                    return
                row = p.rows[key] = Row(ck)
                bisect.insort(p.keys, key)
            if marker is not None:
                row.marker = marker  # the newest write decides the row liveness
            for name, (v, exp) in cells.items():
                if v is None:
                    row.cells.pop(name, None)
                else:
                    row.cells[name] = (v, exp)
            if row.marker is None and not row.cells:
                self._remove_row(p, key)
        self._drop_if_empty(p)

    def delete_partition(self, pk: tuple[bytes, ...]) -> None:
        self.partitions.pop(pk, None)

    def delete_rows(self, pk: tuple[bytes, ...], cks: list[tuple[bytes, ...]]) -> None:
        p = self.partitions.get(pk)
        if p is None:
            return
        for ck in cks:
            key = self.sort_key(ck)
            if key in p.rows:
                self._remove_row(p, key)
        self._drop_if_empty(p)

    def _remove_row(self, p: Partition, key: Any) -> None:
        del p.rows[key]
        i = bisect.bisect_left(p.keys, key)
        if i < len(p.keys) and p.keys[i] == key:
            del p.keys[i]

    def _drop_if_empty(self, p: Partition) -> None:
        if p.is_empty():
            self.partitions.pop(p.pk, None)

    def truncate(self) -> None:
        self.partitions.clear()


def _hex(t: tuple[bytes | None, ...] | None) -> list[str | None] | None:
    return None if t is None else [None if b is None else b.hex() for b in t]


def _unhex(t: list[str | None] | None) -> tuple[Any, ...] | None:
    return None if t is None else tuple(None if s is None else bytes.fromhex(s) for s in t)


def _unhex_key(t: list[str]) -> tuple[bytes, ...]:
    """Decode a logged partition or clustering key (key components are never null)."""
    return tuple(bytes.fromhex(s) for s in t)


def _cells(c: Mapping[str, tuple[bytes | None, float]]) -> dict[str, list[Any]]:
    return {k: [None if v is None else v.hex(), exp] for k, (v, exp) in c.items()}


def _uncells(c: dict[str, list[Any]]) -> dict[str, tuple[bytes | None, float]]:
    return {k: (None if v is None else bytes.fromhex(v), exp) for k, (v, exp) in c.items()}


def _upsert_record(
    qualified: str,
    pk: tuple[bytes, ...],
    ck: tuple[bytes, ...] | None,
    marker: float | None,
    cells: Mapping[str, tuple[bytes | None, float]],
    static: Mapping[str, tuple[bytes | None, float]],
) -> dict[str, Any]:
    return {"t": qualified, "op": "up", "pk": _hex(pk), "ck": _hex(ck), "mk": marker,
            "c": _cells(cells), "s": _cells(static)}  # fmt: skip


class Store:
    """Table data for every table plus the mutation log."""

    def __init__(self, data_dir: str | None = None) -> None:
        self.tables: dict[str, TableData] = {}
        self.data_dir = data_dir
        self._pending: list[str] = []
        self._record: list[dict[str, Any]] | None = None
        self._appended = 0
        self._synced = 0
        self._sync_task: asyncio.Task[None] | None = None
        self._log: TextIO | None = None
        self._ddl: list[str] = []  # every DDL log line, in order (kept by compaction)
        if data_dir:
            os.makedirs(data_dir, exist_ok=True)
            self.log_path = os.path.join(data_dir, "commitlog.jsonl")

    def data(self, table: Table) -> TableData:
        d = self.tables.get(table.qualified)
        if d is None or d.table is not table:
            d = self.tables[table.qualified] = TableData(table)
        return d

    def drop(self, qualified: str) -> None:
        self.tables.pop(qualified, None)

    # ---- logging ---------------------------------------------------------------------
    def begin(self) -> None:
        """Start collecting the mutations of one statement into a single log record."""
        self._record = []

    def end(self) -> None:
        rec, self._record = self._record, None
        if rec and self.data_dir:
            self._pending.append(json.dumps({"m": rec}) + "\n")
            self._appended += 1

    def log_ddl(self, cql: str, keyspace: str | None) -> None:
        if self.data_dir:
            line = json.dumps({"ddl": cql, "ks": keyspace}) + "\n"
            self._ddl.append(line)
            self._pending.append(line)
            self._appended += 1

    def _note(self, rec: dict[str, Any]) -> None:
        if self.data_dir and self._record is not None:
            self._record.append(rec)

    def upsert(self, table: Table, pk, ck, marker, cells, static) -> None:
        self.data(table).upsert(pk, ck, marker, cells, static)
        self._note(_upsert_record(table.qualified, pk, ck, marker, cells, static))

    def delete_partition(self, table: Table, pk: tuple[bytes, ...]) -> None:
        self.data(table).delete_partition(pk)
        self._note({"t": table.qualified, "op": "dp", "pk": _hex(pk)})

    def delete_rows(
        self, table: Table, pk: tuple[bytes, ...], cks: list[tuple[bytes, ...]]
    ) -> None:
        self.data(table).delete_rows(pk, cks)
        self._note(
            {"t": table.qualified, "op": "dr", "pk": _hex(pk), "cks": [_hex(c) for c in cks]}
        )

    def truncate(self, table: Table) -> None:
        self.data(table).truncate()
        self._note({"t": table.qualified, "op": "tr"})

    async def commit(self) -> None:
        """Wait until everything appended so far is written and fsynced."""
        if not self.data_dir:
            return
        target = self._appended
        while self._synced < target:
            if self._sync_task is None:
                self._sync_task = asyncio.ensure_future(self._sync())
            await asyncio.shield(self._sync_task)

    async def _sync(self) -> None:
        try:
            lines, self._pending = self._pending, []
            upto = self._appended
            if lines:
                await asyncio.to_thread(self._write, "".join(lines))
            self._synced = upto
        finally:
            self._sync_task = None

    def _write(self, text: str) -> None:
        if self._log is None:
            # The append log stays open for the process: every write appends and fsyncs.
            self._log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115
        self._log.write(text)
        self._log.flush()
        os.fsync(self._log.fileno())

    def replay(self, run_ddl: Any, tables: Any) -> int:
        """Re-apply the log: ``run_ddl(cql, keyspace)`` for DDL, ``tables(qualified)`` -> Table."""
        if not self.data_dir or not os.path.exists(self.log_path):
            return 0
        n = 0
        with open(self.log_path, encoding="utf-8") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    break  # torn final write
                n += 1
                if "ddl" in rec:
                    self._ddl.append(line.rstrip("\n") + "\n")
                    run_ddl(rec["ddl"], rec["ks"])
                    continue
                for m in rec["m"]:
                    table = tables(m["t"])
                    if table is None:
                        continue
                    d = self.data(table)
                    if m["op"] == "up":
                        d.upsert(
                            _unhex_key(m["pk"]),
                            _unhex(m["ck"]),
                            m["mk"],
                            _uncells(m["c"]),
                            _uncells(m["s"]),
                        )
                    elif m["op"] == "dp":
                        d.delete_partition(_unhex_key(m["pk"]))
                    elif m["op"] == "dr":
                        d.delete_rows(_unhex_key(m["pk"]), [_unhex_key(c) for c in m["cks"]])
                    elif m["op"] == "tr":
                        d.truncate()
        return n

    def compact(self) -> None:
        """Rewrite the log as the DDL records plus one record per partition of stored data.

        Call after ``replay`` and before anything is appended. The new log is written to a
        temporary file, fsynced and renamed over the old one, so a crash leaves one or the
        other whole.
        """
        if not self.data_dir:
            return
        if self._log is not None or self._pending:
            raise RuntimeError("compact() runs only after replay, before any write")
        tmp = self.log_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(self._ddl)
            for d in self.tables.values():
                if d.table.virtual:
                    continue
                q = d.table.qualified
                for p in d.partitions.values():
                    rec = [_upsert_record(q, p.pk, None, None, {}, p.static)] if p.static else []
                    rec.extend(
                        _upsert_record(q, p.pk, row.ck, row.marker, row.cells, {})
                        for row in p.rows.values()
                    )
                    f.write(json.dumps({"m": rec}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.log_path)
        dir_fd = os.open(self.data_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def now() -> float:
    return time.time()
