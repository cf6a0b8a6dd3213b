"""The TCP server: one asyncio protocol object per connection, many streams per connection.

Frames are parsed from the connection's buffer as they arrive; each request is
executed synchronously (see ``storage`` for why that makes LWTs atomic) and
answered at once, or after the mutation log is fsynced when a data directory is
used. A malformed or oversized frame gets a protocol error and closes only its
own connection.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from . import protocol as P
from .cql import ast
from .errors import CqlError, InvalidRequest, ProtocolError, ServerError, Unprepared
from .execution import Executor, Prepared, SchemaChange, SetKeyspace
from .schema import Schema
from .storage import Store
from .system_tables import CQL_VERSION, SystemTables

log = logging.getLogger("cqlserver")
MAX_FRAME = 16 * 1024 * 1024


class Server:
    def __init__(self, host: str = "127.0.0.1", port: int = 9042, data_dir: str | None = None,
                 max_frame: int = MAX_FRAME) -> None:  # fmt: skip
        self.host = host
        self.port = port
        self.max_frame = max_frame
        self.schema = Schema()
        self.store = Store(data_dir)
        self.executor = Executor(self.schema, self.store)
        self.system = SystemTables(self.executor, host)
        self.connections: set[Connection] = set()
        self._server: asyncio.base_events.Server | None = None
        self.replay()

    def replay(self) -> None:
        def run_ddl(cql: str, keyspace: str | None) -> None:
            p = self.executor.prepare(cql, keyspace, cache=False)
            try:
                self.executor.ddl(p.statement, cql, keyspace, replay=True)
            except CqlError as e:
                log.warning("replaying %r failed: %s", cql, e)

        def table(q: str) -> Any:
            ks, _, name = q.partition(".")
            k = self.schema.keyspaces.get(ks)
            return k.tables.get(name) if k else None

        n = self.store.replay(run_ddl, table)
        if n:
            log.info("replayed %d log records", n)
        self.store.compact()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: Connection(self), self.host, self.port, reuse_address=True, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve_forever(self) -> None:
        await self.start()
        assert self._server is not None
        log.info("cqlserver listening on %s:%d", self.host, self.port)
        async with self._server:
            await self._server.serve_forever()

    async def close(self) -> None:
        if self._server:
            self._server.close()
        for c in list(self.connections):
            if c.transport:
                c.transport.close()

    def broadcast_schema_change(self, sc: SchemaChange) -> None:
        body = P.w_string("SCHEMA_CHANGE") + P.encode_schema_change(sc)
        for c in list(self.connections):
            if "SCHEMA_CHANGE" in c.events and c.transport and not c.transport.is_closing():
                c.transport.write(P.frame(-1, P.OP_EVENT, body))


class Connection(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self.server = server
        self.ex = server.executor
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.keyspace: str | None = None
        self.events: set[str] = set()
        self.closed = False
        self.pending: set[asyncio.Future[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP server's protocol is given an asyncio.Transport (asyncio types it as the base).
        self.transport = transport  # type: ignore[assignment]
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while len(buf) >= P.HEADER_SIZE and not self.closed:
            version, flags, stream, opcode, length = P.HEADER.unpack_from(buf, 0)
            if version & 0x7F != P.VERSION or version & 0x80:
                v = version & 0x7F
                self.fatal(
                    stream,
                    ProtocolError(
                        f"Invalid or unsupported protocol version ({v}); the lowest supported "
                        f"version is 4 and the greatest is 4"
                    ),
                )
                return
            if length < 0 or length > self.server.max_frame:
                self.fatal(
                    stream,
                    ProtocolError(
                        f"Request is too big: length {length} exceeds maximum allowed length "
                        f"{self.server.max_frame}."
                    ),
                )
                return
            end = P.HEADER_SIZE + length
            if len(buf) < end:
                return
            body = bytes(buf[P.HEADER_SIZE : end])
            del buf[:end]
            self.handle(flags, stream, opcode, body)

    def fatal(self, stream: int, err: CqlError) -> None:
        """Answer with an error and close this connection only."""
        if self.transport and not self.transport.is_closing():
            self.transport.write(P.frame(stream, P.OP_ERROR, err.body()))
            self.transport.close()
        self.closed = True
        self.buf.clear()

    def send(self, stream: int, opcode: int, body: bytes) -> None:
        if self.transport and not self.transport.is_closing():
            self.transport.write(P.frame(stream, opcode, body))

    def handle(self, flags: int, stream: int, opcode: int, body: bytes) -> None:
        try:
            if flags & P.FLAG_COMPRESSION:
                raise ProtocolError("Compression was not negotiated")
            r = P.Reader(body)
            if flags & P.FLAG_CUSTOM_PAYLOAD:
                r.bytes_map()
            out = self.dispatch(opcode, r)
        except ProtocolError as e:
            self.fatal(stream, e)
            return
        except CqlError as e:
            self.send(stream, P.OP_ERROR, e.body())
            return
        except (UnicodeDecodeError, IndexError) as e:
            self.fatal(stream, ProtocolError(f"Invalid message: {e}"))
            return
        except Exception as e:  # a bug: report it, keep the connection
            log.exception("error handling opcode %d", opcode)
            self.send(stream, P.OP_ERROR, ServerError(f"{type(e).__name__}: {e}").body())
            return
        opc, payload, durable = out
        if durable and self.server.store.data_dir:
            task = asyncio.ensure_future(self._send_after_commit(stream, opc, payload))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)
        else:
            self.send(stream, opc, payload)

    async def _send_after_commit(self, stream: int, opcode: int, payload: bytes) -> None:
        try:
            await self.server.store.commit()
        except Exception as e:
            log.exception("commit failed")
            self.send(stream, P.OP_ERROR, ServerError(f"commit log write failed: {e}").body())
            return
        self.send(stream, opcode, payload)

    # ---- requests ------------------------------------------------------------------------
    def dispatch(self, opcode: int, r: P.Reader) -> tuple[int, bytes, bool]:
        if opcode == P.OP_OPTIONS:
            supported = {"CQL_VERSION": [CQL_VERSION], "COMPRESSION": [],
                         "PROTOCOL_VERSIONS": ["4/v4"]}  # fmt: skip
            return P.OP_SUPPORTED, P.w_string_multimap(supported), False
        if opcode == P.OP_STARTUP:
            opts = r.string_map()
            if opts.get("COMPRESSION"):
                raise ProtocolError(f"Unknown compression algorithm: {opts['COMPRESSION']}")
            return P.OP_READY, b"", False
        if opcode == P.OP_REGISTER:
            self.events.update(r.string_list())
            return P.OP_READY, b"", False
        if opcode == P.OP_QUERY:
            query = r.long_string()
            q = P.read_query_params(r)
            p = self.ex.prepare(query, self.keyspace, cache=False)
            return self.run(p, q)
        if opcode == P.OP_PREPARE:
            query = r.long_string()
            p = self.ex.prepare(query, self.keyspace)
            return P.OP_RESULT, P.encode_prepared(p), False
        if opcode == P.OP_EXECUTE:
            pid = r.short_bytes()
            q = P.read_query_params(r)
            # None (unknown id) is refused on the next line; p is a Prepared from there on.
            p = self.ex.prepared.get(pid)  # type: ignore[assignment]
            if p is None:
                raise Unprepared(pid)
            return self.run(p, q)
        if opcode == P.OP_BATCH:
            return self.batch(r)
        if opcode == P.OP_AUTH_RESPONSE:
            raise ProtocolError("Authentication is not enabled")
        raise ProtocolError(f"Unknown opcode {opcode}")

    def _values(self, p: Prepared, q: P.QueryParams) -> list[Any]:
        values = q.values
        if q.names is not None:
            by_name = dict(zip(q.names, values, strict=True))
            values = []
            for i, name in enumerate(p.bind_names):
                key = name or p.bind_specs[i][2]
                if key not in by_name:
                    raise InvalidRequest(f"No value has been provided for bind variable {key}")
                values.append(by_name[key])
        if len(values) != len(p.bind_specs):
            raise InvalidRequest(
                f"There were {len(p.bind_specs)} markers(?) in CQL but {len(values)} bound "
                "variables"
            )
        return values

    def run(self, p: Prepared, q: P.QueryParams) -> tuple[int, bytes, bool]:
        values = self._values(p, q)
        res = self.ex.execute(p, values, self.keyspace, q.page_size, q.paging_state)
        if isinstance(res, SetKeyspace):
            self.keyspace = res.keyspace
        elif isinstance(res, SchemaChange):
            self.server.broadcast_schema_change(res)
        durable = not isinstance(p.statement, (ast.Select, ast.Use))
        return P.OP_RESULT, P.encode_result(res, q.skip_metadata), durable

    def batch(self, r: P.Reader) -> tuple[int, bytes, bool]:
        kind = r.byte()
        n = r.short()
        stmts = []
        for _ in range(n):
            k = r.byte()
            if k == 0:
                p = self.ex.prepare(r.long_string(), self.keyspace, cache=False)
            elif k == 1:
                pid = r.short_bytes()
                # None (unknown id) is refused right below, as for EXECUTE.
                p = self.ex.prepared.get(pid)  # type: ignore[assignment]
                if p is None:
                    raise Unprepared(pid)
            else:
                raise ProtocolError(
                    f"Invalid query kind in BATCH messages. Must be 0 or 1 but got {k}"
                )
            vals = [r.value() for _ in range(r.short())]
            stmts.append((p, vals))
        r.short()  # consistency
        flags = r.byte()
        if flags & P.Q_SERIAL_CONSISTENCY:
            r.short()
        if flags & P.Q_TIMESTAMP:
            r.long()
        if kind not in (0, 1, 2):
            raise ProtocolError(f"Invalid BATCH message type {kind}")
        # Re-base every statement's bind markers into one value list.
        flat = []
        for p, vals in stmts:
            if not isinstance(p.statement, ast.MODIFICATIONS):
                raise InvalidRequest(
                    "Invalid statement in batch: only UPDATE, INSERT and DELETE "
                    "statements are allowed."
                )
            if len(vals) != len(p.bind_specs):
                raise InvalidRequest(
                    f"There were {len(p.bind_specs)} markers(?) in CQL but {len(vals)} bound "
                    "variables"
                )
            flat.append((p, vals))
        res = self.ex.modify_prepared(flat, self.keyspace)
        return P.OP_RESULT, P.encode_result(res), True
