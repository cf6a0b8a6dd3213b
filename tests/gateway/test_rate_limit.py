"""Per-IP limit on login/register: every occurrence counts, aliases and batches included.

Each test sends from its own loopback address (127.0.0.N), so each has its own allowance.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.gateway.conftest import Gateway

LIMIT = 5


@pytest.fixture(scope="module")
def limited_gateway(new_gateway: Callable[..., Gateway]) -> Gateway:
    return new_gateway(SHOP_AUTH_RATE_LIMIT=str(LIMIT), SHOP_AUTH_RATE_WINDOW_SECONDS="60")


def auth_calls(gateway: Gateway) -> int:
    data = gateway.post("{ authCalls { login register } }").json()["data"]["authCalls"]
    return int(data["login"]) + int(data["register"])


def login(n: int, field: str = "login") -> str:
    return (
        "mutation { "
        + " ".join(f'a{i}: {field}(email: "u{i}@x.y", password: "pw")' for i in range(n))
        + " }"
    )


def assert_rate_limited(response: httpx.Response) -> None:
    body = response.json()
    assert body.get("data") is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["RATE_LIMITED"], body
    assert response.status_code == 429


def test_logins_up_to_the_limit_pass_and_the_next_is_refused(limited_gateway: Gateway) -> None:
    before = auth_calls(limited_gateway)
    with limited_gateway.client("127.0.0.11") as client:
        for i in range(LIMIT):
            ok = client.post(limited_gateway.url, json={"query": login(1)})
            assert ok.status_code == 200, (i, ok.text)
            assert ok.json()["data"]["a0"] == "token-for-u0@x.y"
        refused = client.post(limited_gateway.url, json={"query": login(1, "register")})
    assert_rate_limited(refused)
    assert auth_calls(limited_gateway) == before + LIMIT


def test_aliases_cannot_bypass_the_limit(limited_gateway: Gateway) -> None:
    before = auth_calls(limited_gateway)
    with limited_gateway.client("127.0.0.12") as client:
        refused = client.post(limited_gateway.url, json={"query": login(LIMIT + 1)})
        assert_rate_limited(refused)
        assert auth_calls(limited_gateway) == before  # the subgraph was not called at all
        ok = client.post(limited_gateway.url, json={"query": login(LIMIT)})
        assert ok.status_code == 200, ok.text
        assert len(ok.json()["data"]) == LIMIT, ok.text
        assert_rate_limited(client.post(limited_gateway.url, json={"query": login(1)}))
    assert auth_calls(limited_gateway) == before + LIMIT


def test_fragments_and_extra_operations_count_too(limited_gateway: Gateway) -> None:
    before = auth_calls(limited_gateway)
    query = (
        'mutation A { ...F ... on Mutation { x: register(email: "r@x.y", password: "p") } }'
        " fragment F on Mutation { "
        + " ".join(f'f{i}: login(email: "f{i}@x.y", password: "p")' for i in range(LIMIT - 1))
        + " }"
        ' mutation B { b: login(email: "b@x.y", password: "p") }'
    )
    with limited_gateway.client("127.0.0.13") as client:
        refused = client.post(limited_gateway.url, json={"query": query, "operationName": "A"})
    assert_rate_limited(refused)
    assert auth_calls(limited_gateway) == before


def test_batching_cannot_bypass_the_limit(limited_gateway: Gateway) -> None:
    before = auth_calls(limited_gateway)
    batch = [{"query": login(1)} for _ in range(LIMIT + 2)]
    with limited_gateway.client("127.0.0.14") as client:
        response = client.post(limited_gateway.url, json=batch)
    assert response.status_code == 400, response.text
    assert "token-for" not in response.text
    assert auth_calls(limited_gateway) == before


def test_limit_is_per_client_address(limited_gateway: Gateway) -> None:
    with limited_gateway.client("127.0.0.15") as client:
        assert_rate_limited(client.post(limited_gateway.url, json={"query": login(LIMIT + 1)}))
        assert client.post(limited_gateway.url, json={"query": login(LIMIT)}).status_code == 200
        assert_rate_limited(client.post(limited_gateway.url, json={"query": login(1)}))
    with limited_gateway.client("127.0.0.16") as other:
        response = other.post(limited_gateway.url, json={"query": login(1)})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["a0"], response.text
