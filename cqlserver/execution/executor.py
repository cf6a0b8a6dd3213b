"""The ``Executor``: prepares statements and dispatches each to the module that runs it.

It owns the state that outlives a statement (the schema, the store, the
prepared-statement and parse caches, the DDL callback); the statement
semantics live in the sibling modules.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

from cqlserver.cql import ast, parse
from cqlserver.schema import Schema
from cqlserver.storage import Store
from cqlserver.types import CqlType

from .batch import run_modifications
from .binds import collect_binds
from .ddl import run_ddl
from .results import ColSpec, Prepared, SchemaChange, SetKeyspace
from .select import run_select
from .selectors import select_columns


class Executor:
    def __init__(self, schema: Schema, store: Store) -> None:
        self.schema = schema
        self.store = store
        self.prepared: dict[bytes, Prepared] = {}
        self._parse_cache: OrderedDict[tuple[str, str | None], Prepared] = OrderedDict()
        self.on_ddl: Any = None  # callback to refresh system tables

    # ---- preparing --------------------------------------------------------------------
    def prepare(self, query: str, keyspace: str | None, cache: bool = True) -> Prepared:
        key = (query, keyspace)
        p = self._parse_cache.get(key)
        if p is not None:
            self._parse_cache.move_to_end(key)
            if cache:
                self.prepared[p.id] = p
            return p
        stmt, nbinds, names = parse(query)
        pid = hashlib.md5(((keyspace or "") + "\x00" + query).encode()).digest()
        specs: list[ColSpec | None] = [None] * nbinds
        pk_idx: list[int] = []
        result_cols: list[ColSpec] | None = None
        if isinstance(stmt, ast.Batch):
            for s in stmt.statements:
                collect_binds(self.schema, s, keyspace, specs, [])
        elif isinstance(stmt, (*ast.MODIFICATIONS, ast.Select)):
            pk_idx = []
            collect_binds(self.schema, stmt, keyspace, specs, pk_idx)
            if isinstance(stmt, ast.Select):
                table = self.schema.table(stmt.keyspace or keyspace, stmt.table)
                result_cols = select_columns(table, stmt)[0]
        blob = CqlType("blob")
        final = [s if s is not None else ("", "", f"bind{i}", blob) for i, s in enumerate(specs)]
        p = Prepared(pid, query, keyspace, stmt, final, pk_idx, result_cols, names)
        self._parse_cache[key] = p
        if len(self._parse_cache) > 5000:
            self._parse_cache.popitem(last=False)
        if cache:
            self.prepared[pid] = p
        return p

    # ---- dispatch -----------------------------------------------------------------------
    def execute(
        self,
        p: Prepared,
        values: list[Any],
        keyspace: str | None,
        page_size: int = -1,
        paging_state: bytes | None = None,
    ) -> Any:
        stmt = p.statement
        ks = p.keyspace if p.keyspace is not None else keyspace
        if isinstance(stmt, ast.Select):
            return run_select(self.schema, self.store, stmt, values, ks, page_size, paging_state)
        if isinstance(stmt, ast.MODIFICATIONS):
            return self.modify([stmt], values, ks, batch=False)
        if isinstance(stmt, ast.Batch):
            return self.modify(stmt.statements, values, ks, batch=True)
        if isinstance(stmt, ast.Use):
            self.schema.keyspace(stmt.keyspace)
            return SetKeyspace(stmt.keyspace)
        return self.ddl(stmt, p.query, ks)

    def ddl(self, stmt: Any, query: str, keyspace: str | None, replay: bool = False) -> Any:
        result = run_ddl(self.schema, self.store, stmt, keyspace)
        if isinstance(result, SchemaChange):
            self._parse_cache.clear()
            if not replay:
                self.store.log_ddl(query, keyspace)
            if self.on_ddl:
                self.on_ddl()
        return result

    def modify_prepared(self, items: list[tuple[Prepared, list[Any]]], keyspace: str | None) -> Any:
        """Execute a protocol BATCH: each prepared statement with its own values."""
        triples = [
            (p.statement, vals, p.keyspace if p.keyspace is not None else keyspace)
            for p, vals in items
        ]
        return self.modify_many(triples, batch=True)

    def modify(self, stmts: list[Any], values: list[Any], keyspace: str | None, batch: bool) -> Any:
        return self.modify_many([(s, values, keyspace) for s in stmts], batch)

    def modify_many(self, items: list[tuple[Any, list[Any], str | None]], batch: bool) -> Any:
        return run_modifications(self.schema, self.store, items, batch)
