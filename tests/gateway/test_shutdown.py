"""The gateway exits promptly on SIGTERM with its catalog cache on: the cache's Kafka
consumer (gateway/catalog-cache.ts) is disconnected when the gateway is disposed. Left
running, it kept the process alive after the server had closed, until it was killed (every
stop of a stack waited 10 s for the gateway)."""

from __future__ import annotations

import asyncio
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

EXITS_WITHIN = 5.0  # seconds after SIGTERM (it took 10 s, then SIGKILL, before)


def test_the_gateway_exits_promptly_on_sigterm_with_its_catalog_cache_on(
    supergraph: Path, keys: Keys, kafka_bootstrap: str, tmp_path: Path
) -> None:
    asyncio.run(ensure_topics(kafka_bootstrap, ["shop.item", "shop.inventory"]))
    log_path = tmp_path / "gateway.log"
    process = start_gateway(
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
        deadline = time.monotonic() + 60
        while "catalog cache on" not in log_path.read_text():
            assert time.monotonic() < deadline, "the catalog cache never came on"
            time.sleep(0.2)
        os.killpg(process.popen.pid, signal.SIGTERM)
        try:
            process.popen.wait(EXITS_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the gateway was still running {EXITS_WITHIN} s after SIGTERM")
    finally:
        process.stop()
