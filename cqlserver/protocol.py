"""Native protocol v4 framing and primitive codecs (sections 2-4 of the spec).

``Reader`` decodes request bodies; the ``w_*`` helpers and ``encode_*``
functions build response bodies; ``frame()`` wraps a body in a v4 header.
"""

from __future__ import annotations

import builtins
import struct
from typing import Any

from .errors import ProtocolError
from .execution import ColSpec, Prepared, Rows, SchemaChange, SetKeyspace, Void
from .types import UNSET

VERSION = 4
HEADER = struct.Struct(">BBhBi")
HEADER_SIZE = 9

OP_ERROR = 0x00
OP_STARTUP = 0x01
OP_READY = 0x02
OP_AUTHENTICATE = 0x03
OP_OPTIONS = 0x05
OP_SUPPORTED = 0x06
OP_QUERY = 0x07
OP_RESULT = 0x08
OP_PREPARE = 0x09
OP_EXECUTE = 0x0A
OP_REGISTER = 0x0B
OP_EVENT = 0x0C
OP_BATCH = 0x0D
OP_AUTH_RESPONSE = 0x0F

FLAG_COMPRESSION = 0x01
FLAG_TRACING = 0x02
FLAG_CUSTOM_PAYLOAD = 0x04
FLAG_WARNING = 0x08

Q_VALUES = 0x01
Q_SKIP_METADATA = 0x02
Q_PAGE_SIZE = 0x04
Q_PAGING_STATE = 0x08
Q_SERIAL_CONSISTENCY = 0x10
Q_TIMESTAMP = 0x20
Q_NAMES = 0x40

_I = struct.Struct(">i")
_H = struct.Struct(">H")
_Q = struct.Struct(">q")


class Reader:
    """Sequential decoder for a request body; raises ProtocolError when truncated."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise ProtocolError("Not enough bytes to read the message body")
        b = self.buf[self.pos : self.pos + n]
        self.pos += n
        return b

    def byte(self) -> int:
        return self._take(1)[0]

    def short(self) -> int:
        return _H.unpack(self._take(2))[0]

    def int(self) -> int:
        return _I.unpack(self._take(4))[0]

    def long(self) -> builtins.int:  # plain `int` here would name the method above
        return _Q.unpack(self._take(8))[0]

    def string(self) -> str:
        return self._take(self.short()).decode("utf-8")

    def long_string(self) -> str:
        return self._take(self.int()).decode("utf-8")

    def short_bytes(self) -> bytes:
        return self._take(self.short())

    def bytes_(self) -> bytes | None:
        n = self.int()
        return None if n < 0 else self._take(n)

    def value(self) -> Any:
        n = self.int()
        if n == -1:
            return None
        if n == -2:
            return UNSET
        if n < 0:
            raise ProtocolError(f"Invalid value length {n}")
        return self._take(n)

    def string_list(self) -> list[str]:
        return [self.string() for _ in range(self.short())]

    def string_map(self) -> dict[str, str]:
        return {self.string(): self.string() for _ in range(self.short())}

    def bytes_map(self) -> dict[str, bytes | None]:
        return {self.string(): self.bytes_() for _ in range(self.short())}


class QueryParams:
    __slots__ = ("consistency", "names", "page_size", "paging_state", "skip_metadata", "values")

    def __init__(self) -> None:
        self.consistency = 1
        self.values: list[Any] = []
        self.names: list[str] | None = None
        self.skip_metadata = False
        self.page_size = -1
        self.paging_state: bytes | None = None


def read_query_params(r: Reader) -> QueryParams:
    q = QueryParams()
    q.consistency = r.short()
    flags = r.byte()
    if flags & Q_VALUES:
        n = r.short()
        if flags & Q_NAMES:
            q.names = []
            for _ in range(n):
                q.names.append(r.string().lower())
                q.values.append(r.value())
        else:
            q.values = [r.value() for _ in range(n)]
    q.skip_metadata = bool(flags & Q_SKIP_METADATA)
    if flags & Q_PAGE_SIZE:
        q.page_size = r.int()
    if flags & Q_PAGING_STATE:
        q.paging_state = r.bytes_()
    if flags & Q_SERIAL_CONSISTENCY:
        r.short()
    if flags & Q_TIMESTAMP:
        r.long()
    return q


# ---- writers ------------------------------------------------------------------------------
def w_string(s: str) -> bytes:
    b = s.encode("utf-8")
    return _H.pack(len(b)) + b


def w_short_bytes(b: bytes) -> bytes:
    return _H.pack(len(b)) + b


def w_string_multimap(m: dict[str, list[str]]) -> bytes:
    out = [_H.pack(len(m))]
    for k, vs in m.items():
        out.append(w_string(k))
        out.append(_H.pack(len(vs)))
        out.extend(w_string(v) for v in vs)
    return b"".join(out)


def frame(stream: int, opcode: int, body: bytes, flags: int = 0) -> bytes:
    return HEADER.pack(0x80 | VERSION, flags, stream, opcode, len(body)) + body


def _col_specs(cols: list[ColSpec]) -> tuple[int, bytes]:
    """(global-table-spec flag, encoded specs)."""
    if not cols:
        return 0, b""
    tables = {(c[0], c[1]) for c in cols}
    if len(tables) == 1:
        ks, tn = cols[0][0], cols[0][1]
        body = w_string(ks) + w_string(tn)
        body += b"".join(w_string(c[2]) + c[3].option() for c in cols)
        return 0x0001, body
    return 0, b"".join(
        w_string(c[0]) + w_string(c[1]) + w_string(c[2]) + c[3].option() for c in cols
    )


def encode_rows(res: Rows, skip_metadata: bool) -> bytes:
    flags = 0
    parts = []
    if res.paging_state is not None:
        flags |= 0x0002
    if skip_metadata and res.skip_metadata_ok:
        flags |= 0x0004
        specs = b""
    else:
        gflag, specs = _col_specs(res.columns)
        flags |= gflag
    parts.append(_I.pack(0x0002))
    parts.append(_I.pack(flags))
    parts.append(_I.pack(len(res.columns)))
    if res.paging_state is not None:
        parts.append(_I.pack(len(res.paging_state)) + res.paging_state)
    parts.append(specs)
    parts.append(_I.pack(len(res.rows)))
    pack = _I.pack
    for row in res.rows:
        for v in row:
            if v is None:
                parts.append(b"\xff\xff\xff\xff")
            else:
                parts.append(pack(len(v)))
                parts.append(v)
    return b"".join(parts)


def encode_prepared(p: Prepared) -> bytes:
    gflag, specs = _col_specs(p.bind_specs)
    out = [_I.pack(0x0004), w_short_bytes(p.id)]
    out.append(_I.pack(gflag) + _I.pack(len(p.bind_specs)) + _I.pack(len(p.pk_indexes)))
    out.extend(_H.pack(i) for i in p.pk_indexes)
    out.append(specs)
    if p.result_columns is None:
        out.append(_I.pack(0x0004) + _I.pack(0))
    else:
        rflag, rspecs = _col_specs(p.result_columns)
        out.append(_I.pack(rflag) + _I.pack(len(p.result_columns)) + rspecs)
    return b"".join(out)


def encode_schema_change(sc: SchemaChange) -> bytes:
    body = w_string(sc.change) + w_string(sc.target) + w_string(sc.keyspace)
    if sc.target != "KEYSPACE":
        body += w_string(sc.name)
    return body


def encode_result(res: Any, skip_metadata: bool = False) -> bytes:
    if isinstance(res, Rows):
        return encode_rows(res, skip_metadata)
    if isinstance(res, Void):
        return _I.pack(0x0001)
    if isinstance(res, SetKeyspace):
        return _I.pack(0x0003) + w_string(res.keyspace)
    if isinstance(res, SchemaChange):
        return _I.pack(0x0005) + encode_schema_change(res)
    if isinstance(res, Prepared):
        return encode_prepared(res)
    raise TypeError(res)
