"""The gateway's request id: returned to the client, and on the gateway's log lines of the
request (gateway/tracing.ts). Tracing itself is proven end to end in tests/e2e/test_tracing.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from stack.process import free_port
from tests.gateway.conftest import Gateway
from tests.support.tokens import make_token


def test_every_response_carries_a_fresh_request_id(gateway: Gateway) -> None:
    first = gateway.post("{ hello }")
    second = gateway.post("{ hello }", headers={"x-request-id": "client-chosen"})
    assert first.status_code == second.status_code == 200
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2, ids
    assert "client-chosen" not in ids, ids
    for request_id in ids:
        uuid.UUID(request_id)


@pytest.fixture(scope="module")
def without_jwks(new_gateway: Callable[..., Gateway]) -> Gateway:
    """A gateway whose JWKS URL answers nothing: a bearer token makes it log a warning."""
    return new_gateway(SHOP_JWKS_URL=f"http://127.0.0.1:{free_port()}/.well-known/jwks.json")


def test_the_gateways_log_line_of_a_request_carries_its_request_id(
    without_jwks: Gateway,
) -> None:
    """The JWKS warning is written by the gateway's own code, which names no request: the
    log writer adds the id of the request being handled."""
    token = make_token("acc-1")
    response = without_jwks.post("{ hello }", headers={"authorization": f"Bearer {token}"})
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    request_id = response.headers["x-request-id"]
    entries = without_jwks.log_path.read_text().split("\n20")  # an entry a timestamp
    warned = [e for e in entries if "the JWKS could not be fetched" in e]
    assert warned, entries
    assert any(f'requestId: "{request_id}"' in e for e in warned), warned
