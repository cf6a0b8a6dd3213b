"""Raw native-protocol behaviour: handshake, version negotiation, bad frames, error codes."""

from __future__ import annotations

import socket
import struct


def frame(opcode: int, body: bytes = b"", stream: int = 1, version: int = 4) -> bytes:
    return struct.pack(">BBhBi", version, 0, stream, opcode, len(body)) + body


def string(s: str) -> bytes:
    return struct.pack(">H", len(s)) + s.encode()


def long_string(s: str) -> bytes:
    return struct.pack(">i", len(s)) + s.encode()


def read_frame(sock: socket.socket) -> tuple[int, int, int, bytes]:
    head = b""
    while len(head) < 9:
        chunk = sock.recv(9 - len(head))
        if not chunk:
            raise ConnectionError("closed")
        head += chunk
    version, _flags, stream, opcode, length = struct.unpack(">BBhBi", head)
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            raise ConnectionError("closed")
        body += chunk
    return version, stream, opcode, body


def connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(frame(0x01, struct.pack(">H", 1) + string("CQL_VERSION") + string("3.0.0")))
    assert read_frame(s)[2] == 0x02  # READY
    return s


def query(sock: socket.socket, cql: str, stream: int = 1) -> tuple[int, bytes]:
    body = long_string(cql) + struct.pack(">HB", 1, 0)
    sock.sendall(frame(0x07, body, stream))
    _, got_stream, opcode, payload = read_frame(sock)
    assert got_stream == stream
    return opcode, payload


def error_code(payload: bytes) -> int:
    return struct.unpack(">i", payload[:4])[0]


def closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_options_lists_cql_version_and_startup_is_ready(cql_port):
    s = socket.create_connection(("127.0.0.1", cql_port), timeout=5)
    s.sendall(frame(0x05, stream=7))
    version, stream, opcode, body = read_frame(s)
    assert (version, stream, opcode) == (0x84, 7, 0x06)
    assert b"CQL_VERSION" in body
    assert b"PROTOCOL_VERSIONS" in body
    s.close()


def test_v5_client_gets_the_protocol_error_that_makes_drivers_fall_back(cql_port):
    s = socket.create_connection(("127.0.0.1", cql_port), timeout=5)
    s.sendall(frame(0x05, version=5))
    version, _, opcode, body = read_frame(s)
    assert version & 0x7F == 4
    assert opcode == 0x00
    assert error_code(body) == 0x000A
    assert b"Invalid or unsupported protocol version (5)" in body
    s.close()


def test_error_codes_for_syntax_invalid_and_unprepared(cql_port):
    s = connect(cql_port)
    opcode, payload = query(s, "SELEKT 1")
    assert opcode == 0x00
    assert error_code(payload) == 0x2000
    opcode, payload = query(s, "SELECT * FROM nowhere.t", stream=2)
    assert opcode == 0x00
    assert error_code(payload) == 0x2200
    s.sendall(frame(0x0A, struct.pack(">H", 4) + b"abcd" + struct.pack(">HB", 1, 0), stream=3))
    _, stream, opcode, payload = read_frame(s)
    assert (stream, opcode, error_code(payload)) == (3, 0x00, 0x2500)
    assert payload.endswith(struct.pack(">H", 4) + b"abcd")
    opcode, payload = query(s, "SELECT key FROM system.local", stream=4)
    assert opcode == 0x08
    assert struct.unpack(">i", payload[:4])[0] == 2
    s.close()


def test_many_streams_in_flight_on_one_connection(cql_port):
    s = connect(cql_port)
    body = long_string("SELECT cluster_name FROM system.local") + struct.pack(">HB", 1, 0)
    s.sendall(b"".join(frame(0x07, body, stream=i) for i in range(1, 201)))
    streams = {read_frame(s)[1] for _ in range(200)}
    assert streams == set(range(1, 201))
    s.close()


def test_malformed_and_oversized_frames_close_only_their_connection(cql_port):
    good = connect(cql_port)
    bad = connect(cql_port)
    bad.sendall(frame(0x07, b"\x00\x00\x00\x50abc"))  # long string longer than the body
    _, _, opcode, payload = read_frame(bad)
    assert opcode == 0x00
    assert error_code(payload) == 0x000A
    assert closed(bad)
    huge = connect(cql_port)
    huge.sendall(struct.pack(">BBhBi", 4, 0, 1, 0x07, 1 << 30))
    _, _, opcode, payload = read_frame(huge)
    assert error_code(payload) == 0x000A
    assert b"too big" in payload
    assert closed(huge)
    assert query(good, "SELECT key FROM system.local")[0] == 0x08
    fresh = connect(cql_port)
    assert query(fresh, "SELECT key FROM system.local")[0] == 0x08
    for sock in (good, bad, huge, fresh):
        sock.close()


def test_a_forged_paging_state_gets_a_protocol_error_and_closes_only_its_connection(cql_port):
    good = connect(cql_port)
    for forged in (b"[1]", b"\xff\xfe", b'{"pk": ["zz"], "ck": null, "n": 0, "pp": 0}'):
        bad = connect(cql_port)
        params = struct.pack(">HBi", 1, 0x04 | 0x08, 10) + struct.pack(">i", len(forged)) + forged
        bad.sendall(frame(0x07, long_string("SELECT key FROM system.local") + params, stream=3))
        _, stream, opcode, payload = read_frame(bad)
        assert (stream, opcode, error_code(payload)) == (3, 0x00, 0x000A)
        assert b"Invalid value for the paging state" in payload
        assert closed(bad)
        bad.close()
    assert query(good, "SELECT key FROM system.local")[0] == 0x08
    good.close()
