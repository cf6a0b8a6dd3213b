"""Schema statements: CREATE/DROP of keyspaces, tables and types, ALTER TABLE ADD, TRUNCATE.

Also the guard that keeps the virtual ``system*`` keyspaces read-only. ``USE``
is handled by the ``Executor`` itself; parse-cache invalidation, DDL logging
and the system-table refresh happen in ``Executor.ddl``.
"""

from __future__ import annotations

from typing import Any

from cqlserver.cql import ast
from cqlserver.errors import InvalidRequest
from cqlserver.schema import Schema
from cqlserver.storage import Store

from .results import SchemaChange, Void


def refuse_system(schema: Schema, ks: str | None) -> None:
    if ks is not None and ks in schema.keyspaces and schema.keyspaces[ks].virtual:
        raise InvalidRequest(f"Cannot modify system keyspace {ks}")


def run_ddl(schema: Schema, store: Store, stmt: Any, keyspace: str | None) -> Any:
    result: Any = Void()
    if isinstance(stmt, ast.CreateKeyspace):
        refuse_system(schema, stmt.name)
        if schema.create_keyspace(stmt):
            result = SchemaChange("CREATED", "KEYSPACE", stmt.name)
    elif isinstance(stmt, ast.CreateTable):
        ks = stmt.keyspace or keyspace
        refuse_system(schema, ks)
        if schema.create_table(stmt, keyspace):
            result = SchemaChange("CREATED", "TABLE", schema.keyspace(ks).name, stmt.name)
    elif isinstance(stmt, ast.CreateType):
        ks = stmt.keyspace or keyspace
        refuse_system(schema, ks)
        if schema.create_type(stmt, keyspace):
            result = SchemaChange("CREATED", "TYPE", schema.keyspace(ks).name, stmt.name)
    elif isinstance(stmt, ast.AlterTableAdd):
        altered = schema.alter_add(stmt, keyspace)
        if altered is not None:
            result = SchemaChange("UPDATED", "TABLE", altered.keyspace, altered.name)
    elif isinstance(stmt, ast.CreateIndex):
        raise InvalidRequest("Secondary indexes are not supported by this server")
    elif isinstance(stmt, ast.Drop):
        ks = stmt.keyspace or keyspace if stmt.what != "KEYSPACE" else stmt.name
        refuse_system(schema, ks)
        if schema.drop(stmt, keyspace):
            if stmt.what == "KEYSPACE":
                for q in [q for q in store.tables if q.startswith(stmt.name + ".")]:
                    store.drop(q)
                result = SchemaChange("DROPPED", "KEYSPACE", stmt.name)
            else:
                if stmt.what == "TABLE":
                    store.drop(f"{ks}.{stmt.name}")
                result = SchemaChange("DROPPED", stmt.what, ks or "", stmt.name)
    elif isinstance(stmt, ast.Truncate):
        t = schema.table(stmt.keyspace or keyspace, stmt.name)
        refuse_system(schema, t.keyspace)
        store.begin()
        store.truncate(t)
        store.end()
        return Void()
    else:
        raise InvalidRequest(f"Unsupported statement {type(stmt).__name__}")
    return result
