"""The ``system`` and ``system_schema`` keyspaces drivers read when they connect.

They are ordinary tables (so SELECT, WHERE and paging work on them as on any
other) marked virtual; their rows are rebuilt from the live schema after each
DDL statement. ``system.local`` has the one row drivers insist on;
``system.peers`` is empty (single node).
"""

from __future__ import annotations

import uuid
from typing import Any

from .cql import ast, parse
from .execution import Executor
from .schema import Keyspace, Table

RELEASE_VERSION = "3.11.16"
CQL_VERSION = "3.4.4"
CLUSTER_NAME = "cqlserver"

SYSTEM_TABLES = {
    "system": [
        """CREATE TABLE local (key text PRIMARY KEY, bootstrapped text, broadcast_address inet,
        cluster_name text, cql_version text, data_center text, gossip_generation int,
        host_id uuid, listen_address inet, native_protocol_version text, partitioner text,
        rack text, release_version text, rpc_address inet, schema_version uuid,
        thrift_version text, tokens set<text>, truncated_at map<uuid, blob>)""",
        """CREATE TABLE peers (peer inet PRIMARY KEY, data_center text, host_id uuid,
        preferred_ip inet, rack text, release_version text, rpc_address inet,
        schema_version uuid, tokens set<text>)""",
    ],
    "system_schema": [
        """CREATE TABLE keyspaces (keyspace_name text PRIMARY KEY, durable_writes boolean,
        replication frozen<map<text, text>>)""",
        """CREATE TABLE tables (keyspace_name text, table_name text,
        bloom_filter_fp_chance double, caching frozen<map<text, text>>, cdc boolean,
        comment text, compaction frozen<map<text, text>>, compression frozen<map<text, text>>,
        crc_check_chance double, dclocal_read_repair_chance double,
        default_time_to_live int, extensions frozen<map<text, blob>>, flags frozen<set<text>>,
        gc_grace_seconds int, id uuid, max_index_interval int,
        memtable_flush_period_in_ms int, min_index_interval int, read_repair_chance double,
        speculative_retry text, PRIMARY KEY ((keyspace_name), table_name))""",
        """CREATE TABLE columns (keyspace_name text, table_name text, column_name text,
        clustering_order text, column_name_bytes blob, kind text, position int, type text,
        PRIMARY KEY ((keyspace_name), table_name, column_name))""",
        """CREATE TABLE types (keyspace_name text, type_name text,
        field_names frozen<list<text>>, field_types frozen<list<text>>,
        PRIMARY KEY ((keyspace_name), type_name))""",
        """CREATE TABLE functions (keyspace_name text, function_name text,
        argument_types frozen<list<text>>, argument_names frozen<list<text>>, body text,
        called_on_null_input boolean, language text, return_type text,
        PRIMARY KEY ((keyspace_name), function_name, argument_types))""",
        """CREATE TABLE aggregates (keyspace_name text, aggregate_name text,
        argument_types frozen<list<text>>, final_func text, initcond text, return_type text,
        state_func text, state_type text,
        PRIMARY KEY ((keyspace_name), aggregate_name, argument_types))""",
        """CREATE TABLE triggers (keyspace_name text, table_name text, trigger_name text,
        options frozen<map<text, text>>,
        PRIMARY KEY ((keyspace_name), table_name, trigger_name))""",
        """CREATE TABLE indexes (keyspace_name text, table_name text, index_name text,
        kind text, options frozen<map<text, text>>,
        PRIMARY KEY ((keyspace_name), table_name, index_name))""",
        """CREATE TABLE views (keyspace_name text, view_name text, base_table_id uuid,
        base_table_name text, include_all_columns boolean, where_clause text, id uuid,
        PRIMARY KEY ((keyspace_name), view_name))""",
        """CREATE TABLE dropped_columns (keyspace_name text, table_name text, column_name text,
        dropped_time timestamp, type text,
        PRIMARY KEY ((keyspace_name), table_name, column_name))""",
    ],
}

TABLE_DEFAULTS: dict[str, Any] = {
    "bloom_filter_fp_chance": 0.01,
    "caching": {"keys": "ALL", "rows_per_partition": "NONE"},
    "cdc": False,
    "comment": "",
    "compaction": {
        "class": "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
        "max_threshold": "32",
        "min_threshold": "4",
    },
    "compression": {
        "chunk_length_in_kb": "64",
        "class": "org.apache.cassandra.io.compress.LZ4Compressor",
    },
    "crc_check_chance": 1.0,
    "dclocal_read_repair_chance": 0.1,
    "default_time_to_live": 0,
    "extensions": {},
    "flags": {"compound"},
    "gc_grace_seconds": 864000,
    "max_index_interval": 2048,
    "memtable_flush_period_in_ms": 0,
    "min_index_interval": 128,
    "read_repair_chance": 0.0,
    "speculative_retry": "99PERCENTILE",
}


class SystemTables:
    def __init__(self, executor: Executor, rpc_address: str) -> None:
        self.ex = executor
        self.rpc_address = rpc_address if rpc_address not in ("0.0.0.0", "", "::") else "127.0.0.1"
        self.host_id = uuid.uuid4()
        schema = executor.schema
        for ks_name, ddl in SYSTEM_TABLES.items():
            strategy = "org.apache.cassandra.locator.LocalStrategy"
            schema.keyspaces[ks_name] = Keyspace(ks_name, {"class": strategy}, True, virtual=True)
            for q in ddl:
                stmt, _, _ = parse(q)
                assert isinstance(stmt, ast.CreateTable)
                stmt.keyspace = ks_name
                schema.create_table(stmt, ks_name)
                schema.keyspaces[ks_name].tables[stmt.name].virtual = True
        executor.on_ddl = self.refresh
        self.refresh()

    def _put(self, table: Table, row: dict[str, Any]) -> None:
        def enc(name: str) -> bytes | None:
            return table.columns[name].type.to_bytes(row.get(name))

        pk = tuple(enc(c.name) for c in table.partition_key)
        ck = tuple(enc(c.name) for c in table.clustering)
        cells = {
            c.name: (enc(c.name), float("inf"))
            for c in table.regulars
            if row.get(c.name) is not None
        }
        # A system row sets every key column, so no key part is None.
        self.ex.store.data(table).upsert(pk, ck, float("inf"), cells, {})  # type: ignore[arg-type]

    def refresh(self) -> None:
        schema = self.ex.schema
        sch = schema.keyspaces["system_schema"].tables
        for t in sch.values():
            self.ex.store.data(t).truncate()
        local = schema.keyspaces["system"].tables["local"]
        self.ex.store.data(local).truncate()
        self._put(
            local,
            {
                "key": "local",
                "bootstrapped": "COMPLETED",
                "broadcast_address": self.rpc_address,
                "cluster_name": CLUSTER_NAME,
                "cql_version": CQL_VERSION,
                "data_center": "datacenter1",
                "gossip_generation": 1,
                "host_id": self.host_id,
                "listen_address": self.rpc_address,
                "native_protocol_version": "4",
                "partitioner": "org.apache.cassandra.dht.Murmur3Partitioner",
                "rack": "rack1",
                "release_version": RELEASE_VERSION,
                "rpc_address": self.rpc_address,
                "schema_version": schema.version,
                "thrift_version": "20.1.0",
                "tokens": {"0"},
            },
        )
        for ks in schema.keyspaces.values():
            self._put(
                sch["keyspaces"],
                {"keyspace_name": ks.name, "durable_writes": ks.durable_writes,
                 "replication": ks.replication},
            )  # fmt: skip
            for tname, udt in ks.types.items():
                self._put(
                    sch["types"],
                    {"keyspace_name": ks.name, "type_name": tname,
                     "field_names": list(udt.field_names),
                     "field_types": [p.cql() for p in udt.params]},
                )  # fmt: skip
            for t in ks.tables.values():
                opts = dict(TABLE_DEFAULTS)
                for k, v in t.options.items():
                    if k in opts:
                        if isinstance(opts[k], dict) and isinstance(v, dict):
                            v = {str(a): str(b) for a, b in v.items()}
                        opts[k] = v
                opts.update(keyspace_name=ks.name, table_name=t.name, id=t.id)
                try:
                    self._put(sch["tables"], opts)
                except (TypeError, ValueError):
                    opts = dict(TABLE_DEFAULTS, keyspace_name=ks.name, table_name=t.name, id=t.id)
                    self._put(sch["tables"], opts)
                for c in t.columns.values():
                    order = c.order.lower() if c.kind == "clustering" else "none"
                    self._put(
                        sch["columns"],
                        {"keyspace_name": ks.name, "table_name": t.name, "column_name": c.name,
                         "clustering_order": order, "column_name_bytes": c.name.encode(),
                         "kind": c.kind, "position": c.position, "type": c.type.cql()},
                    )  # fmt: skip
