"""The gateway stops when it is told to: on SIGTERM it closes its catalog cache's Kafka
consumer with the rest and exits within seconds. The consumer used to hold Node's event loop
open, so every stop (Ctrl-C on ``make up``, each stack and gateway restart in the tests)
waited out the 10 s before ``Process.stop`` killed it."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import pytest

from shopkit.events.kafka import ensure_topics
from stack import engines
from stack.gateway import start_gateway
from stack.process import Process, free_port
from tests.gateway.conftest import Keys

STOPS_WITHIN = 5.0  # seconds; the kill came after 10


def gateway_with_catalog_cache(
    supergraph: Path, keys: Keys, bootstrap: str, log_path: Path
) -> Process:
    """A gateway whose catalog cache consumes from ``bootstrap``, once the cache is on."""
    proc = start_gateway(
        supergraph,
        free_port(),
        {
            "SHOP_GATEWAY_SECRET": secrets.token_urlsafe(24),
            "SHOP_JWKS_URL": keys.jwks_url,
            "SHOP_KAFKA_BOOTSTRAP": bootstrap,
            "SHOP_GATEWAY_LOG_LEVEL": "info",
        },
        log_path=log_path,
    )
    proc.wait_until(
        lambda: "catalog cache on" in log_path.read_text(),
        timeout=60,
        hint="The catalog cache's consumer did not start.",
    )
    return proc


def assert_exits_on_sigterm(proc: Process) -> None:
    started = time.monotonic()
    os.killpg(proc.popen.pid, signal.SIGTERM)
    try:
        proc.popen.wait(STOPS_WITHIN)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the gateway was still running {STOPS_WITHIN} s after SIGTERM")
    assert time.monotonic() - started < STOPS_WITHIN


async def test_a_gateway_with_its_catalog_cache_on_exits_on_sigterm_within_seconds(
    supergraph: Path, keys: Keys, kafka_bootstrap: str, tmp_path: Path
) -> None:
    await ensure_topics(kafka_bootstrap, ["shop.item", "shop.inventory"])
    proc = gateway_with_catalog_cache(supergraph, keys, kafka_bootstrap, tmp_path / "gateway.log")
    try:
        assert_exits_on_sigterm(proc)
    finally:
        proc.stop()


async def test_a_gateway_whose_kafka_restarted_exits_on_sigterm_within_seconds(
    supergraph: Path, keys: Keys, tmp_path: Path
) -> None:
    """The catalog cache's consumer, crashed by a broker that went away, is replaced while the
    broker comes back; a stop meanwhile must not wait for that consumer. It did: kafkajs
    restarted the crashed one on a timer of its own, and the gateway waited out the kill (the
    last stop of every e2e stack, whose Kafka a test restarts, took 10 s)."""
    kafka_port, controller = free_port(), free_port()

    def start_kafka() -> Process:
        return engines.start_kafka(
            kafka_port, tmp_path / "kafka", tmp_path, controller_port=controller
        )

    kafka = start_kafka()
    log_path = tmp_path / "gateway.log"
    proc = None
    try:
        bootstrap = f"127.0.0.1:{kafka_port}"
        await ensure_topics(bootstrap, ["shop.item", "shop.inventory"])
        proc = gateway_with_catalog_cache(supergraph, keys, bootstrap, log_path)
        kafka.stop()
        proc.wait_until(
            lambda: "catalog cache off" in log_path.read_text(),
            timeout=60,
            hint="The catalog cache did not notice its broker was gone.",
        )
        kafka = start_kafka()
        time.sleep(3)  # a new consumer is connecting, or kafkajs restarting the old one
        assert_exits_on_sigterm(proc)
    finally:
        if proc:
            proc.stop()
        kafka.stop()
