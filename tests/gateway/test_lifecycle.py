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
from stack.gateway import start_gateway
from stack.process import free_port
from tests.gateway.conftest import Keys

STOPS_WITHIN = 5.0  # seconds; the kill came after 10


async def test_a_gateway_with_its_catalog_cache_on_exits_on_sigterm_within_seconds(
    supergraph: Path, keys: Keys, kafka_bootstrap: str, tmp_path: Path
) -> None:
    await ensure_topics(kafka_bootstrap, ["shop.item", "shop.inventory"])
    log_path = tmp_path / "gateway.log"
    proc = start_gateway(
        supergraph,
        free_port(),
        {
            "SHOP_GATEWAY_SECRET": secrets.token_urlsafe(24),
            "SHOP_JWKS_URL": keys.jwks_url,
            "SHOP_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "SHOP_GATEWAY_LOG_LEVEL": "info",
        },
        log_path=log_path,
    )
    try:
        proc.wait_until(
            lambda: "catalog cache on" in log_path.read_text(),
            timeout=60,
            hint="The catalog cache's consumer did not start.",
        )
        started = time.monotonic()
        os.killpg(proc.popen.pid, signal.SIGTERM)
        try:
            proc.popen.wait(STOPS_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the gateway was still running {STOPS_WITHIN} s after SIGTERM")
        assert time.monotonic() - started < STOPS_WITHIN
    finally:
        proc.stop()
