"""CQL data types: protocol type options, byte-exact value codecs and sort keys.

Values are kept in their serialized protocol form (``bytes``) everywhere in the
server; this module converts Python values to and from that form (section 6 of
the native protocol v4 spec), validates bound values, writes the ``[option]``
type descriptions used in result metadata and gives sort keys for clustering
order.
"""

from __future__ import annotations

import datetime as dt
import decimal
import ipaddress
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidRequest

NATIVE_IDS = {
    "ascii": 0x0001,
    "bigint": 0x0002,
    "blob": 0x0003,
    "boolean": 0x0004,
    "counter": 0x0005,
    "decimal": 0x0006,
    "double": 0x0007,
    "float": 0x0008,
    "int": 0x0009,
    "timestamp": 0x000B,
    "uuid": 0x000C,
    "text": 0x000D,
    "varint": 0x000E,
    "timeuuid": 0x000F,
    "inet": 0x0010,
    "date": 0x0011,
    "time": 0x0012,
    "smallint": 0x0013,
    "tinyint": 0x0014,
}
ALIASES = {"varchar": "text"}
FIXED_SIZES = {
    "bigint": 8,
    "counter": 8,
    "boolean": 1,
    "double": 8,
    "float": 4,
    "int": 4,
    "timestamp": 8,
    "uuid": 16,
    "timeuuid": 16,
    "date": 4,
    "time": 8,
    "smallint": 2,
    "tinyint": 1,
}
INT_SIZES = {"tinyint": 1, "smallint": 2, "int": 4, "bigint": 8, "counter": 8}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
DATE_OFFSET = 1 << 31


@dataclass(frozen=True)
class CqlType:
    """A CQL type: ``kind`` is a native name or list/set/map/tuple/udt."""

    kind: str
    params: tuple[CqlType, ...] = ()
    frozen: bool = False
    keyspace: str = ""
    name: str = ""
    field_names: tuple[str, ...] = field(default=())

    # ---- description -------------------------------------------------
    @property
    def is_collection(self) -> bool:
        return self.kind in ("list", "set", "map")

    @property
    def is_complex(self) -> bool:
        """Non-frozen collections and UDTs (Cassandra sorts them after simple columns)."""
        return (self.is_collection or self.kind == "udt") and not self.frozen

    def freeze(self) -> CqlType:
        return CqlType(self.kind, self.params, True, self.keyspace, self.name, self.field_names)

    def cql(self) -> str:
        if self.kind in ("list", "set", "map", "tuple"):
            inner = ", ".join(p.cql() for p in self.params)
            s = f"{self.kind}<{inner}>"
        elif self.kind == "udt":
            s = self.name
        else:
            s = self.kind
        return f"frozen<{s}>" if self.frozen and self.kind != "tuple" else s

    def option(self) -> bytes:
        """The ``[option]`` describing this type in result/bind metadata."""
        if self.kind in NATIVE_IDS:
            return struct.pack(">H", NATIVE_IDS[self.kind])
        if self.kind == "list":
            return b"\x00\x20" + self.params[0].option()
        if self.kind == "set":
            return b"\x00\x22" + self.params[0].option()
        if self.kind == "map":
            return b"\x00\x21" + self.params[0].option() + self.params[1].option()
        if self.kind == "tuple":
            return (
                b"\x00\x31"
                + struct.pack(">H", len(self.params))
                + b"".join(p.option() for p in self.params)
            )
        if self.kind == "udt":
            out = [b"\x00\x30", _string(self.keyspace), _string(self.name)]
            out.append(struct.pack(">H", len(self.params)))
            for n, t in zip(self.field_names, self.params, strict=True):
                out.append(_string(n) + t.option())
            return b"".join(out)
        raise ValueError(self.kind)

    # ---- validation of bound values ----------------------------------
    def validate(self, b: bytes, what: str = "") -> None:
        size = FIXED_SIZES.get(self.kind)
        if size is not None and len(b) not in (size, 0):
            kind = "long" if self.kind in ("bigint", "counter") else self.kind
            raise InvalidRequest(f"Expected {size} or 0 byte {kind} ({len(b)})")
        if self.kind == "text":
            try:
                b.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidRequest("Invalid UTF-8 bytes " + b.hex()) from None
        elif self.kind == "ascii" and any(c > 127 for c in b):
            raise InvalidRequest("Invalid byte for ascii: " + str(max(b)))
        elif self.kind == "inet" and len(b) not in (0, 4, 16):
            raise InvalidRequest(f"Invalid length for inet: {len(b)}")
        elif self.kind == "timeuuid" and len(b) == 16 and (b[6] >> 4) != 1:
            raise InvalidRequest("Unsupported UUID version for timeuuid")
        elif self.is_collection and b:
            try:
                elems = split_collection(b, self.kind == "map")
            except (struct.error, IndexError, ValueError):
                raise InvalidRequest(f"Not enough bytes to read a {self.kind}") from None
            types = (
                [self.params[0], self.params[1]] * (len(elems) // 2)
                if self.kind == "map"
                else [self.params[0]] * len(elems)
            )
            for t, e in zip(types, elems, strict=True):
                if e is None:
                    raise InvalidRequest(f"null is not supported inside {self.kind}s")
                t.validate(e)

    # ---- python values -----------------------------------------------
    def to_bytes(self, v: Any) -> bytes | None:
        """Serialize a Python value (None stays None)."""
        if v is None:
            return None
        k = self.kind
        if k in ("text", "ascii"):
            return v.encode("utf-8") if isinstance(v, str) else bytes(v)
        if k in INT_SIZES:
            return int(v).to_bytes(INT_SIZES[k], "big", signed=True)
        if k == "varint":
            return varint_bytes(int(v))
        if k == "boolean":
            return b"\x01" if v else b"\x00"
        if k == "double":
            return struct.pack(">d", float(v))
        if k == "float":
            return struct.pack(">f", float(v))
        if k == "decimal":
            d = decimal.Decimal(v)
            sign, digits, exp = d.as_tuple()
            unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
            return struct.pack(">i", -int(exp)) + varint_bytes(unscaled)
        if k in ("uuid", "timeuuid"):
            return (v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))).bytes
        if k == "timestamp":
            if isinstance(v, dt.datetime):
                if v.tzinfo is None:
                    v = v.replace(tzinfo=dt.UTC)
                v = (v - EPOCH) // dt.timedelta(milliseconds=1)
            return struct.pack(">q", int(v))
        if k == "date":
            if isinstance(v, dt.date):
                v = (v - dt.date(1970, 1, 1)).days
            return struct.pack(">I", (int(v) + DATE_OFFSET) & 0xFFFFFFFF)
        if k == "time":
            if isinstance(v, dt.time):
                v = (
                    v.hour * 3600 + v.minute * 60 + v.second
                ) * 1_000_000_000 + v.microsecond * 1000
            return struct.pack(">q", int(v))
        if k == "blob":
            return bytes(v)
        if k == "inet":
            return ipaddress.ip_address(v).packed
        if k == "list":
            return join_collection([self.params[0].to_bytes(x) for x in v])
        if k == "set":
            et = self.params[0]
            elems = sorted({et.to_bytes(x) for x in v}, key=et.sort_key)
            return join_collection(elems)
        if k == "map":
            kt, vt = self.params
            pairs = [(kt.to_bytes(a), vt.to_bytes(b)) for a, b in v.items()]
            pairs.sort(key=lambda p: kt.sort_key(p[0]))
            return join_collection([x for p in pairs for x in p], pairs=True)
        if k in ("tuple", "udt"):
            if isinstance(v, dict):
                v = [v.get(n) for n in self.field_names]
            return b"".join(_value(t.to_bytes(x)) for t, x in zip(self.params, v, strict=False))
        raise ValueError(k)

    def from_bytes(self, b: bytes | None) -> Any:
        """Deserialize to a Python value (used by tests, system tables and functions)."""
        if b is None:
            return None
        k = self.kind
        if not b and k not in ("text", "ascii", "blob"):
            return None
        if k in ("text", "ascii"):
            return b.decode("utf-8")
        if k in INT_SIZES or k == "varint":
            return int.from_bytes(b, "big", signed=True)
        if k == "boolean":
            return b != b"\x00"
        if k == "double":
            return struct.unpack(">d", b)[0]
        if k == "float":
            return struct.unpack(">f", b)[0]
        if k == "decimal":
            scale = struct.unpack(">i", b[:4])[0]
            return decimal.Decimal(int.from_bytes(b[4:], "big", signed=True)).scaleb(-scale)
        if k in ("uuid", "timeuuid"):
            return uuid.UUID(bytes=b)
        if k == "timestamp":
            return struct.unpack(">q", b)[0]
        if k == "date":
            return struct.unpack(">I", b)[0] - DATE_OFFSET
        if k == "time":
            return struct.unpack(">q", b)[0]
        if k == "blob":
            return b
        if k == "inet":
            return str(ipaddress.ip_address(b))
        if k == "list":
            return [self.params[0].from_bytes(e) for e in split_collection(b)]
        if k == "set":
            return {self.params[0].from_bytes(e) for e in split_collection(b)}
        if k == "map":
            e = split_collection(b, True)
            kt, vt = self.params
            return {kt.from_bytes(e[i]): vt.from_bytes(e[i + 1]) for i in range(0, len(e), 2)}
        if k in ("tuple", "udt"):
            return [t.from_bytes(x) for t, x in zip(self.params, split_values(b), strict=False)]
        raise ValueError(k)

    def sort_key(self, b: bytes | None) -> Any:
        """A key that orders serialized values the way Cassandra's comparator does."""
        if not b:
            return (0,)
        k = self.kind
        if k in INT_SIZES or k in ("varint", "timestamp", "time"):
            return (1, int.from_bytes(b, "big", signed=True))
        if k in ("double", "float", "decimal", "date"):
            return (1, self.from_bytes(b))
        if k == "timeuuid":
            return (1, uuid.UUID(bytes=b).time, b)
        if k == "uuid":
            u = uuid.UUID(bytes=b)
            if u.version == 1:
                return (1, 1, u.time, b)
            return (1, u.version or 0, 0, b)
        if k in ("list", "set", "map", "tuple", "udt"):
            parts = split_values(b) if k in ("tuple", "udt") else split_collection(b, k == "map")
            types = self.params if k in ("tuple", "udt", "map") else self.params * len(parts)
            if k == "map":
                types = self.params * (len(parts) // 2)
            return (1, tuple(t.sort_key(p) for t, p in zip(types, parts, strict=False)))
        return (1, b)


def _string(s: str) -> bytes:
    e = s.encode()
    return struct.pack(">H", len(e)) + e


def _value(b: bytes | None) -> bytes:
    if b is None:
        return b"\xff\xff\xff\xff"
    return struct.pack(">i", len(b)) + b


def varint_bytes(n: int) -> bytes:
    length = max(1, (n + (n < 0)).bit_length() // 8 + 1)
    return n.to_bytes(length, "big", signed=True)


def split_collection(b: bytes, is_map: bool = False) -> list[bytes | None]:
    """Split a v4 list/set/map body into element byte strings (maps give k, v, k, v...)."""
    (n,) = struct.unpack_from(">i", b, 0)
    pos = 4
    out: list[bytes | None] = []
    count = n * 2 if is_map else n
    while len(out) < count:
        (ln,) = struct.unpack_from(">i", b, pos)
        pos += 4
        if ln < 0:
            out.append(None)
            continue
        if pos + ln > len(b):
            raise ValueError("truncated collection")
        out.append(b[pos : pos + ln])
        pos += ln
    if pos != len(b):
        raise ValueError("trailing bytes in collection")
    return out


def join_collection(elems: list[bytes | None], pairs: bool = False) -> bytes:
    """Serialize element byte strings as a v4 collection (maps pass k,v,k,v...)."""
    n = len(elems) // 2 if pairs else len(elems)
    return struct.pack(">i", n) + b"".join(_value(e) for e in elems)


def split_values(b: bytes) -> list[bytes | None]:
    """Split a tuple/UDT body (a sequence of [bytes])."""
    out: list[bytes | None] = []
    pos = 0
    while pos < len(b):
        (ln,) = struct.unpack_from(">i", b, pos)
        pos += 4
        if ln < 0:
            out.append(None)
        else:
            out.append(b[pos : pos + ln])
            pos += ln
    return out


def native(name: str) -> CqlType:
    name = ALIASES.get(name.lower(), name.lower())
    if name not in NATIVE_IDS:
        raise InvalidRequest(f"Unknown type {name}")
    return CqlType(name)


BOOLEAN = CqlType("boolean")
INT = CqlType("int")
BIGINT = CqlType("bigint")
UUID = CqlType("uuid")


def set_of(t: CqlType, frozen: bool = False) -> CqlType:
    return CqlType("set", (t,), frozen)


class _Unset:
    """The protocol's "unset" bound value (length -2): leaves a column untouched."""

    _instance = None

    def __repr__(self) -> str:
        return "UNSET"


UNSET: object = _Unset()
