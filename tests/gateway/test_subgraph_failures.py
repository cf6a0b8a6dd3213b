"""A subgraph that is slow, frozen or unreachable: the client gets SERVICE_UNAVAILABLE within
the gateway's deadline (SHOP_SUBGRAPH_TIMEOUT_SECONDS), and the gateway's log, written at
debug level during the whole fault run, holds no card number, CVC or password."""

from __future__ import annotations

import os
import signal
import stat
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from stack.process import free_port
from tests.gateway.conftest import (
    Gateway,
    Keys,
    RunningStub,
    compose_stub_supergraph,
    start_stub,
    start_test_gateway,
    stub_sdl,
)
from tests.gateway.test_errors import CARD, DECLINED_CARD

TIMEOUT_SECONDS = 2
PASSWORD = "Tr0ub4dor&3-horse-staple"
NEW_PASSWORD = "correct-horse-battery-staple-77"
CVCS = ("737", "9182")
UNAVAILABLE = "SERVICE_UNAVAILABLE"
LOGIN = "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) }"
REGISTER = "mutation R($e: String!, $p: String!) { register(email: $e, password: $p) }"
PAY = "mutation P($i: PayInput!) { payWith(input: $i) }"


@dataclass
class Faulty:
    stub: RunningStub
    frozen_gateway: Gateway  # routes to `stub`, which the tests freeze (SIGSTOP)
    down_gateway: Gateway  # routes to a port where nothing listens


@pytest.fixture(scope="module")
def faulty(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faulty]:
    workdir = tmp_path_factory.mktemp("faulty")
    sdl = stub_sdl(workdir)
    stub = start_stub(workdir, "frozen-stub")
    settings = {
        "SHOP_SUBGRAPH_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        "SHOP_GATEWAY_LOG_LEVEL": "debug",
        "SHOP_AUTH_RATE_LIMIT": "1000",
    }
    (workdir / "up").mkdir()
    (workdir / "down").mkdir()
    up = compose_stub_supergraph(sdl, stub.url, workdir / "up")
    down = compose_stub_supergraph(sdl, f"http://127.0.0.1:{free_port()}/graphql", workdir / "down")
    frozen_gateways = start_test_gateway(up, keys, workdir / "up", **settings)
    down_gateways = start_test_gateway(down, keys, workdir / "down", **settings)
    try:
        yield Faulty(stub, next(frozen_gateways), next(down_gateways))
    finally:
        for generator in (frozen_gateways, down_gateways):
            generator.close()
        # The slow test's 30 s request, which the gateway gave up on at its deadline, may
        # still be sleeping in the stub, and uvicorn waits for it on SIGTERM; a test double
        # has nothing to flush, so it is not given the 10 s a real subgraph gets.
        stub.process.stop(timeout=1)


@pytest.fixture
def frozen(faulty: Faulty) -> Iterator[None]:
    """The stub process stopped (SIGSTOP): it accepts connections and never answers."""
    os.kill(faulty.stub.process.popen.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(faulty.stub.process.popen.pid, signal.SIGCONT)


def timed(
    gateway: Gateway, query: str, variables: dict[str, Any] | None = None
) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = gateway.post(query, variables=variables or {})
    return time.monotonic() - started, response


def assert_unavailable(response: httpx.Response) -> None:
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == [UNAVAILABLE], response.text
    assert "did not answer in time" in errors[0]["message"]
    assert set(errors[0]["extensions"]) == {"code"}, errors


def test_a_slow_subgraph_answers_service_unavailable_at_the_deadline(faulty: Faulty) -> None:
    elapsed, response = timed(faulty.frozen_gateway, "{ slow(seconds: 30) }")
    assert_unavailable(response)
    assert TIMEOUT_SECONDS - 0.2 <= elapsed < TIMEOUT_SECONDS + 3, elapsed
    assert faulty.frozen_gateway.post("{ slow(seconds: 0.1) }").json() == {
        "data": {"slow": "answered after 0.1 s"}
    }


def test_a_frozen_subgraph_answers_service_unavailable_within_the_deadline(
    faulty: Faulty, frozen: None
) -> None:
    elapsed, response = timed(faulty.frozen_gateway, "{ hello }")
    assert_unavailable(response)
    assert elapsed < TIMEOUT_SECONDS + 3, elapsed


def test_the_gateway_serves_again_once_the_subgraph_thaws(faulty: Faulty) -> None:
    assert faulty.frozen_gateway.post("{ hello }").json() == {"data": {"hello": "world"}}


@pytest.mark.parametrize("query", ["{ hello }", LOGIN, REGISTER])
def test_an_unreachable_subgraph_answers_service_unavailable_at_once(
    faulty: Faulty, query: str
) -> None:
    elapsed, response = timed(faulty.down_gateway, query, {"e": "ada@example.com", "p": PASSWORD})
    assert_unavailable(response)
    assert elapsed < TIMEOUT_SECONDS, elapsed


def fault_run(gateway: Gateway) -> None:
    """Requests carrying test cards, CVCs and passwords, as variables, as literals, inside
    variables that fail coercion, and inside malformed JSON. Sent side by side: against the
    frozen subgraph each one that reaches it waits out the gateway's deadline, and one after
    the other they took 20 s; what is checked is the log they leave, not their order."""
    requests: list[Callable[[], httpx.Response]] = []
    for number, cvc in zip((CARD, DECLINED_CARD), CVCS, strict=True):
        card = {"number": number, "expMonth": 12, "expYear": 2031, "cvc": cvc}
        requests += [
            partial(gateway.post, PAY, variables={"i": {"orderId": "o-1", "card": card}}),
            partial(
                gateway.post,
                f'mutation {{ payWith(input: {{orderId: "o-2", card: {{number: "{number}", '
                f'expMonth: 12, expYear: 2031, cvc: "{cvc}"}}}}) }}',
            ),
            partial(
                gateway.post,
                PAY,
                variables={"i": {"orderId": "o-3", "card": {**card, "expMonth": number}}},
            ),
            partial(
                gateway.post, PAY, variables={"i": {"orderId": "o-4", "card": {**card, "pin": cvc}}}
            ),
            partial(
                gateway.post, "query($at: DateTime!) { later(at: $at) }", variables={"at": number}
            ),
            partial(
                gateway.post_content,
                '{"query": "{ hello }", "variables": {"card": "' + number + '", "cvc": "' + cvc,
                "application/json",
            ),
        ]
    for password in (PASSWORD, NEW_PASSWORD):
        requests += [
            partial(gateway.post, LOGIN, variables={"e": "ada@example.com", "p": password}),
            partial(gateway.post, REGISTER, variables={"e": "ada@example.com", "p": password}),
            partial(
                gateway.post,
                f'mutation {{ login(email: "ada@example.com", password: "{password}") }}',
            ),
            partial(
                gateway.post, LOGIN, variables={"e": "ada@example.com", "p": {"secret": password}}
            ),
        ]
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        for sent in [pool.submit(request) for request in requests]:
            sent.result()


def assert_no_secret_in(log_path: Path) -> None:
    log = log_path.read_text()
    assert "subgraph call failed" in log  # the run did fail, and was logged
    for secret in (CARD, DECLINED_CARD, PASSWORD, NEW_PASSWORD):
        assert secret not in log, f"{secret!r} in {log_path}"
    for line in log.splitlines():
        for cvc in CVCS:
            assert f'"{cvc}"' not in line, line
            assert f"cvc: {cvc}" not in line, line


def test_a_fault_run_leaves_no_card_cvc_or_password_in_the_gateway_log(faulty: Faulty) -> None:
    fault_run(faulty.down_gateway)
    os.kill(faulty.stub.process.popen.pid, signal.SIGSTOP)
    try:
        fault_run(faulty.frozen_gateway)
    finally:
        os.kill(faulty.stub.process.popen.pid, signal.SIGCONT)
    fault_run(faulty.frozen_gateway)  # up again: the coercion failures and literals
    for gateway in (faulty.down_gateway, faulty.frozen_gateway):
        assert_no_secret_in(gateway.log_path)


def test_the_gateway_log_is_readable_by_its_owner_only(faulty: Faulty) -> None:
    for gateway in (faulty.down_gateway, faulty.frozen_gateway):
        assert stat.S_IMODE(gateway.log_path.stat().st_mode) == 0o600
