"""An engine that cannot start fails fast with a message naming the engine, the cause and its
log file: a port already taken, a corrupt data folder, no Java. Never a hang."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack import engines, jvm
from stack.local import LocalStack, Ports
from stack.process import StartError, free_port

FAST = 60.0  # seconds: far below the JVM start timeout, so a hang would fail the test


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def failure_of(start) -> tuple[str, float]:
    began = time.monotonic()
    with pytest.raises(StartError) as raised:
        start()
    return str(raised.value), time.monotonic() - began


def start_jvm_engine(
    engine: str, tmp_path: Path, port: int | None = None, other_port: int | None = None
) -> None:
    """Starts ``engine`` (``kafka`` or ``cassandra``) with its data and logs below
    ``tmp_path``, on free ports but those given: ``other_port`` is Kafka's controller port,
    Cassandra's storage port."""
    port, other_port = port or free_port(), other_port or free_port()
    if engine == "kafka":
        engines.start_kafka(port, tmp_path / engine, tmp_path / "logs", controller_port=other_port)
    else:
        engines.start_cassandra(port, tmp_path / engine, tmp_path / "logs", storage_port=other_port)


def test_kafka_on_a_taken_port_fails_fast_naming_its_log(tmp_path: Path, taken_port: int):
    message, took = failure_of(lambda: start_jvm_engine("kafka", tmp_path, port=taken_port))
    assert took < FAST
    assert "kafka exited" in message
    assert str(tmp_path / "logs" / "kafka.log") in message
    assert "Address already in use" in message or "BindException" in message, message


def test_cassandra_on_a_taken_port_fails_fast_naming_its_log(tmp_path: Path, taken_port: int):
    message, took = failure_of(
        lambda: start_jvm_engine("cassandra", tmp_path, other_port=taken_port)
    )
    assert took < FAST
    assert "cassandra exited" in message, message
    assert "cassandra.log" in message, message


@pytest.mark.parametrize(
    ("engine", "corrupt", "content", "named"),
    [
        ("kafka", "log/meta.properties", "this is not a properties file\x00\x01", "kafka.log"),
        ("cassandra", "storage/commitlog", "a file where Cassandra keeps a directory", "commitlog"),
    ],
)
def test_a_corrupt_data_folder_fails_fast(
    tmp_path: Path, engine: str, corrupt: str, content: str, named: str
):
    """``corrupt``, a file in the engine's data folder, holds what the engine cannot read:
    Kafka's meta.properties that is no properties file, a file where Cassandra keeps a
    directory. The message names the engine and ``named`` (Kafka's log, Cassandra's folder)."""
    path = tmp_path / engine / corrupt
    path.parent.mkdir(parents=True)
    path.write_text(content)
    message, took = failure_of(lambda: start_jvm_engine(engine, tmp_path))
    assert took < FAST
    assert f"{engine} exited" in message, message
    assert named in message, message


def test_without_java_the_jvm_engines_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(jvm, "JDKS_DIR", tmp_path)
    for engine in ("kafka", "cassandra"):
        message, took = failure_of(lambda engine=engine: start_jvm_engine(engine, tmp_path))
        assert took < 5
        assert "Java 17" in message, message
        assert "apt-get install" in message, message


def test_the_stack_refuses_a_taken_engine_port_naming_the_variable(tmp_path: Path, taken_port: int):
    ports = Ports(**{name: free_port() for name in vars(Ports())})
    ports.kafka_controller = taken_port
    stack = LocalStack(data_dir=tmp_path, ports=ports)
    message, took = failure_of(stack.start)
    assert took < FAST
    assert f"port {taken_port} is taken" in message
    assert "SHOP_KAFKA_CONTROLLER_PORT" in message
    assert stack.processes == {}  # what had started was stopped again
