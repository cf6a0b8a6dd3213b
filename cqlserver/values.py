"""Turning parsed terms (literals, collections, bind markers, functions) into bytes.

``term_bytes(term, type, values, what)`` returns the serialized value for a
column of ``type``: ``bytes``, ``None`` (null) or ``UNSET``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct
import time
import uuid
from typing import Any

from .cql import ast
from .errors import InvalidRequest
from .types import UNSET, CqlType, join_collection, native

UUID_EPOCH = 0x01B21DD213814000


def timeuuid_ms(b: bytes) -> int:
    return (uuid.UUID(bytes=b).time - UUID_EPOCH) // 10000


def _parse_timestamp(s: str) -> int:
    s = s.strip()
    try:
        return int(s)
    except ValueError:
        pass
    txt = s.replace(" ", "T", 1)
    if txt.endswith("Z"):
        txt = txt[:-1] + "+00:00"
    if len(txt) > 5 and txt[-5] in "+-" and txt[-4:].isdigit() and ":" not in txt[-5:]:
        txt = txt[:-2] + ":" + txt[-2:]
    try:
        d = dt.datetime.fromisoformat(txt)
    except ValueError:
        raise InvalidRequest(f"Unable to coerce '{s}' to a formatted date (long)") from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    return (d - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)


def _parse_time(s: str) -> int:
    parts = s.strip().split(":")
    try:
        h, m = int(parts[0]), int(parts[1])
        sec, _, frac = parts[2].partition(".") if len(parts) > 2 else ("0", "", "")
        nanos = int((frac + "000000000")[:9]) if frac else 0
        return ((h * 60 + m) * 60 + int(sec)) * 1_000_000_000 + nanos
    except (ValueError, IndexError):
        raise InvalidRequest(f"Unable to coerce '{s}' to a formatted time (long)") from None


def _bad(lit: ast.Literal, t: CqlType, what: str) -> InvalidRequest:
    kind = {"string": "STRING", "int": "INTEGER", "float": "FLOAT", "uuid": "UUID",
            "bool": "BOOLEAN", "blob": "HEX"}.get(lit.kind, lit.kind.upper())  # fmt: skip
    return InvalidRequest(f'Invalid {kind} constant ({lit.value}) for "{what}" of type {t.cql()}')


def literal_bytes(lit: ast.Literal, t: CqlType, what: str) -> bytes | None:
    k, v = lit.kind, lit.value
    tk = t.kind
    if k == "null":
        return None
    try:
        if k == "string":
            if tk in ("text", "ascii"):
                return t.to_bytes(v)
            if tk == "timestamp":
                return t.to_bytes(_parse_timestamp(v))
            if tk == "date":
                return t.to_bytes(dt.date.fromisoformat(v.strip()))
            if tk == "time":
                return t.to_bytes(_parse_time(v))
            if tk == "inet":
                return t.to_bytes(v)
            if tk in ("uuid", "timeuuid"):
                return t.to_bytes(uuid.UUID(v))
            raise _bad(lit, t, what)
        if k == "int":
            if tk in ("tinyint", "smallint", "int", "bigint", "varint", "counter", "timestamp"):
                n = int(v)
                if tk != "varint":
                    size = {"tinyint": 1, "smallint": 2, "int": 4}.get(tk, 8)
                    if not -(1 << (size * 8 - 1)) <= n < (1 << (size * 8 - 1)):
                        raise InvalidRequest(f"Invalid {tk} constant ({v}): out of range")
                return t.to_bytes(n)
            if tk in ("double", "float", "decimal"):
                return t.to_bytes(decimal.Decimal(v) if tk == "decimal" else float(v))
            if tk == "date":
                return struct.pack(">I", int(v))
            if tk == "time":
                return t.to_bytes(int(v))
            raise _bad(lit, t, what)
        if k == "float":
            if tk in ("double", "float"):
                return t.to_bytes(float(v.replace("infinity", "inf")))
            if tk == "decimal":
                return t.to_bytes(decimal.Decimal(v))
            raise _bad(lit, t, what)
        if k == "uuid":
            if tk in ("uuid", "timeuuid"):
                u = uuid.UUID(v)
                if tk == "timeuuid" and u.version != 1:
                    raise InvalidRequest(
                        f'Invalid UUID constant ({v}) for "{what}" of type timeuuid'
                    )
                return u.bytes
            raise _bad(lit, t, what)
        if k == "bool":
            if tk == "boolean":
                return t.to_bytes(v)
            raise _bad(lit, t, what)
        if k == "blob":
            if tk == "blob":
                return bytes.fromhex(v[2:])
            raise _bad(lit, t, what)
    except (ValueError, OverflowError):
        raise _bad(lit, t, what) from None
    raise _bad(lit, t, what)


def call_function(fn: ast.FunctionCall, t: CqlType, values: list[Any], what: str) -> bytes | None:
    name = fn.name
    if name == "now":
        return uuid.uuid1().bytes
    if name == "uuid":
        return uuid.uuid4().bytes
    if name in ("currenttimestamp",):
        return struct.pack(">q", int(time.time() * 1000))
    if name in ("currentdate",):
        return native("date").to_bytes(dt.date.today())
    if name in ("currenttimeuuid",):
        return uuid.uuid1().bytes
    if name in ("totimestamp", "dateof", "tounixtimestamp", "unixtimestampof", "todate"):
        if len(fn.args) != 1:
            raise InvalidRequest(f"Invalid number of arguments in call to function {name}")
        arg = term_bytes(fn.args[0], native("timeuuid"), values, what)
        if arg is None or arg is UNSET:
            return None
        ms = timeuuid_ms(arg)
        if name == "todate":
            return native("date").to_bytes(ms // 86_400_000)
        return struct.pack(">q", ms)
    if name in ("mintimeuuid", "maxtimeuuid"):
        arg = term_bytes(fn.args[0], native("timestamp"), values, what)
        ms = struct.unpack(">q", arg)[0]
        ticks = ms * 10000 + UUID_EPOCH
        lo = 0x8080808080808080 if name == "mintimeuuid" else 0x7F7F7F7F7F7F7F7F
        u = uuid.UUID(
            fields=(ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF, ((ticks >> 48) & 0x0FFF) | 0x1000,
                    (lo >> 56) & 0xFF, (lo >> 48) & 0xFF, lo & 0xFFFFFFFFFFFF)
        )  # fmt: skip
        return u.bytes
    if name in ("blobasint", "textasblob", "intasblob"):
        arg = fn.args[0]
        if name == "textasblob":
            return term_bytes(arg, native("text"), values, what)
        return term_bytes(arg, native("blob" if name == "blobasint" else "int"), values, what)
    raise InvalidRequest(f"Unknown function '{name}'")


def term_bytes(term: Any, t: CqlType, values: list[Any], what: str) -> Any:
    """Serialize a term for a value of type ``t`` (``what`` names it in errors)."""
    if isinstance(term, ast.BindMarker):
        v = values[term.index] if term.index < len(values) else UNSET
        if isinstance(v, bytes):
            t.validate(v, what)
        return v
    if isinstance(term, ast.Literal):
        return literal_bytes(term, t, what)
    if isinstance(term, ast.FunctionCall):
        return call_function(term, t, values, what)
    if isinstance(term, ast.Collection):
        return collection_bytes(term, t, values, what)
    raise InvalidRequest(f"Invalid term for {what}")


def _elem(term: Any, t: CqlType, values: list[Any], what: str) -> bytes:
    b = term_bytes(term, t, values, what)
    if b is None:
        raise InvalidRequest("null is not supported inside collections")
    if b is UNSET:
        raise InvalidRequest("Invalid unset value in collection")
    return b


def collection_bytes(c: ast.Collection, t: CqlType, values: list[Any], what: str) -> bytes | None:
    tk = t.kind
    if (
        tk in ("list", "set")
        and c.kind in ("list", "set", "map")
        and (c.kind != "map" or not c.items)
    ):
        if (tk == "set" and c.kind == "list") or (tk == "list" and c.kind == "set"):
            raise InvalidRequest(f"Invalid {c.kind} literal for {what} of type {t.cql()}")
        et = t.params[0]
        elems = [_elem(x, et, values, what) for x in c.items]
        if tk == "set":
            seen: dict[Any, bytes] = {}
            for e in elems:
                seen.setdefault(et.sort_key(e), e)
            elems = [seen[k] for k in sorted(seen)]
        return join_collection(list(elems))
    if tk == "map" and c.kind == "map":
        kt, vt = t.params
        pairs: dict[Any, tuple[bytes, bytes]] = {}
        for k, v in c.items:
            kb = _elem(k, kt, values, what)
            pairs[kt.sort_key(kb)] = (kb, _elem(v, vt, values, what))
        flat: list[bytes | None] = [x for key in sorted(pairs) for x in pairs[key]]
        return join_collection(flat, pairs=True)
    if tk == "tuple" and c.kind == "tuple":
        if len(c.items) > len(t.params):
            raise InvalidRequest(f"Invalid tuple literal for {what}: too many elements")
        out = []
        for x, et in zip(c.items, t.params, strict=False):
            b = term_bytes(x, et, values, what)
            out.append(b"\xff\xff\xff\xff" if b is None else struct.pack(">i", len(b)) + b)
        return b"".join(out)
    if tk == "udt" and c.kind == "udt":
        given = dict(c.items)
        for f in given:
            if f not in t.field_names:
                raise InvalidRequest(f"Unknown field '{f}' in value of user defined type {t.name}")
        out = []
        for fname, ft in zip(t.field_names, t.params, strict=True):
            b = term_bytes(given[fname], ft, values, what) if fname in given else None
            out.append(b"\xff\xff\xff\xff" if b is None else struct.pack(">i", len(b)) + b)
        return b"".join(out)
    raise InvalidRequest(f"Invalid {c.kind} literal for {what} of type {t.cql()}")
