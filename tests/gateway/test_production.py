"""Production mode: no introspection, no GraphiQL, no field suggestions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.gateway.conftest import Gateway


@pytest.fixture(scope="module")
def production_gateway(new_gateway: Callable[..., Gateway]) -> Gateway:
    return new_gateway(SHOP_ENV="production")


def test_production_refuses_schema_introspection(production_gateway: Gateway) -> None:
    response = production_gateway.post("{ __schema { types { name } } }")
    body = response.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    assert "Mutation" not in response.text


def test_production_refuses_type_introspection(production_gateway: Gateway) -> None:
    response = production_gateway.post('{ __type(name: "Forwarded") { fields { name } } }')
    body = response.json()
    assert body.get("data") is None, body
    assert "gatewaySecret" not in response.text


def test_production_serves_no_graphiql(production_gateway: Gateway) -> None:
    with production_gateway.client() as client:
        page = client.get(production_gateway.url, headers={"accept": "text/html"})
        landing = client.get(production_gateway.url.removesuffix("/graphql") + "/")
    assert "text/html" not in page.headers.get("content-type", ""), page.text[:200]
    assert "text/html" not in landing.headers.get("content-type", ""), landing.text[:200]


def test_production_gives_no_field_suggestions(production_gateway: Gateway) -> None:
    response = production_gateway.post("{ helo }")
    assert response.json().get("data") is None
    assert "Did you mean" not in response.text
    assert "hello" not in response.text


def test_production_still_serves_queries(production_gateway: Gateway) -> None:
    response = production_gateway.post("{ hello }")
    assert response.json() == {"data": {"hello": "world"}}
