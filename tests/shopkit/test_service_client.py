"""ServiceClient: a service that does not answer in time is SERVICE_UNAVAILABLE to the caller,
after the bounded retries, whether it accepts the connection and stays silent or refuses it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from shopkit.errors import Unavailable
from shopkit.service_client import ServiceClient
from stack.process import free_port
from tests.support.http import http_client


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A listening socket that never accepts: connections complete, no answer ever comes."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"http://127.0.0.1:{server.getsockname()[1]}/graphql"


async def call(url: str) -> float:
    async with http_client() as http:
        client = ServiceClient(
            url=url,
            caller="orders",
            secret="s" * 32,
            http=http,
            timeout=0.3,
            attempts=2,
            backoff=0.05,
        )
        started = time.monotonic()
        with pytest.raises(Unavailable) as raised:
            await client.execute('{ item(id: "1") { id } }')
    assert raised.value.code == "SERVICE_UNAVAILABLE"
    assert raised.value.extensions["code"] == "SERVICE_UNAVAILABLE"
    return time.monotonic() - started


async def test_a_silent_service_is_unavailable_after_the_timeouts(silent_server: str) -> None:
    elapsed = await call(silent_server)
    assert 0.6 <= elapsed < 3, elapsed  # two attempts of 0.3 s each, then no more


async def test_an_unreachable_service_is_unavailable() -> None:
    elapsed = await call(f"http://127.0.0.1:{free_port()}/graphql")
    assert elapsed < 3, elapsed


async def test_the_shared_service_secret_stays_out_of_the_clients_repr():
    """A client logged as an object (an exception's locals, a debug line) shows its target,
    never the secret every service signs its calls with."""
    secret = "the-shared-service-secret-" + "x" * 16
    async with http_client() as http:
        client = ServiceClient(
            url="http://items/graphql", caller="orders", secret=secret, http=http
        )
        shown = repr(client)
    assert "http://items/graphql" in shown
    assert secret not in shown
