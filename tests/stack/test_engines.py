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


def test_kafka_on_a_taken_port_fails_fast_naming_its_log(tmp_path: Path, taken_port: int):
    message, took = failure_of(
        lambda: engines.start_kafka(
            taken_port, tmp_path / "kafka", tmp_path / "logs", controller_port=free_port()
        )
    )
    assert took < FAST
    assert "kafka exited" in message
    assert str(tmp_path / "logs" / "kafka.log") in message
    assert "Address already in use" in message or "BindException" in message, message


def test_cassandra_on_a_taken_port_fails_fast_naming_its_log(tmp_path: Path, taken_port: int):
    message, took = failure_of(
        lambda: engines.start_cassandra(
            free_port(), tmp_path / "cassandra", tmp_path / "logs", storage_port=taken_port
        )
    )
    assert took < FAST
    assert "cassandra exited" in message, message
    assert "cassandra.log" in message, message


def test_kafka_with_a_corrupt_data_folder_fails_fast(tmp_path: Path):
    log_dir = tmp_path / "kafka" / "log"
    log_dir.mkdir(parents=True)
    (log_dir / "meta.properties").write_text("this is not a properties file\x00\x01")
    message, took = failure_of(
        lambda: engines.start_kafka(
            free_port(), tmp_path / "kafka", tmp_path / "logs", controller_port=free_port()
        )
    )
    assert took < FAST
    assert "kafka exited" in message, message
    assert "kafka.log" in message, message


def test_cassandra_with_a_corrupt_data_folder_fails_fast(tmp_path: Path):
    storage = tmp_path / "cassandra" / "storage"
    storage.mkdir(parents=True)
    (storage / "commitlog").write_text("a file where Cassandra keeps a directory")
    message, took = failure_of(
        lambda: engines.start_cassandra(
            free_port(), tmp_path / "cassandra", tmp_path / "logs", storage_port=free_port()
        )
    )
    assert took < FAST
    assert "cassandra exited" in message, message
    assert "commitlog" in message, message


def test_without_java_the_jvm_engines_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(jvm, "JDKS_DIR", tmp_path)
    for start in (
        lambda: engines.start_kafka(
            free_port(), tmp_path / "kafka", tmp_path / "logs", controller_port=free_port()
        ),
        lambda: engines.start_cassandra(
            free_port(), tmp_path / "cassandra", tmp_path / "logs", storage_port=free_port()
        ),
    ):
        message, took = failure_of(start)
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
