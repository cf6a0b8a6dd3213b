"""CQL error kinds, each carrying the native-protocol error code it is sent with.

Executors and the parser raise these; the server turns them into ERROR frames
(section 9 of the native protocol v4 spec).
"""

from __future__ import annotations

import struct

SERVER_ERROR = 0x0000
PROTOCOL_ERROR = 0x000A
SYNTAX_ERROR = 0x2000
INVALID = 0x2200
CONFIG_ERROR = 0x2300
ALREADY_EXISTS = 0x2400
UNPREPARED = 0x2500


def _string(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">H", len(b)) + b


class CqlError(Exception):
    """Base error: an error code plus a message (and optional code-specific extra body)."""

    code = SERVER_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extra(self) -> bytes:
        return b""

    def body(self) -> bytes:
        return struct.pack(">i", self.code) + _string(self.message) + self.extra()


class ServerError(CqlError):
    code = SERVER_ERROR


class ProtocolError(CqlError):
    code = PROTOCOL_ERROR


class CqlSyntaxError(CqlError):
    code = SYNTAX_ERROR


class InvalidRequest(CqlError):
    code = INVALID


class ConfigurationError(CqlError):
    code = CONFIG_ERROR


class AlreadyExists(CqlError):
    code = ALREADY_EXISTS

    def __init__(self, keyspace: str, table: str = "") -> None:
        if table:
            msg = f'Cannot add already existing table "{table}" to keyspace "{keyspace}"'
        else:
            msg = f'Cannot add existing keyspace "{keyspace}"'
        super().__init__(msg)
        self.keyspace = keyspace
        self.table = table

    def extra(self) -> bytes:
        return _string(self.keyspace) + _string(self.table)


class Unprepared(CqlError):
    code = UNPREPARED

    def __init__(self, query_id: bytes) -> None:
        super().__init__(f"Prepared query with ID {query_id.hex()} not found")
        self.query_id = query_id

    def extra(self) -> bytes:
        return struct.pack(">H", len(self.query_id)) + self.query_id
