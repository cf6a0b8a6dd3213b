"""The REST layer's own side, through the real gateway (the stub supergraph: nothing here
reaches a subgraph): the OpenAPI document is valid OpenAPI 3, the Swagger UI is served from
the gateway alone, and every malformed request is refused with a 4xx and a JSON error body
before any GraphQL runs. The user flow over REST against the real shop is
tests/e2e/test_rest.py."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from shopkit.errors import CODES
from tests.gateway.conftest import Gateway

ITEM_ID = "0123456789abcdef01234567"
ORDER_ID = "3f2b8c1e-6a4d-4e8f-9b1a-2c3d4e5f6a7b"


def base(gateway: Gateway) -> str:
    return gateway.url.removesuffix("/graphql")


def request(gateway: Gateway, method: str, path: str, **kwargs: Any) -> httpx.Response:
    with gateway.client() as client:
        return client.request(method, f"{base(gateway)}{path}", **kwargs)


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert error["code"] in CODES, error
    assert error["message"], error
    return error


def test_the_openapi_document_is_valid_openapi_3_and_covers_every_route(
    gateway: Gateway,
) -> None:
    response = request(gateway, "GET", "/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)  # raises OpenAPIValidationError with the first problem
    assert document["openapi"].startswith("3.")
    routes = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert routes == {
        ("GET", "/api/items"),
        ("POST", "/api/items"),
        ("GET", "/api/items/{id}"),
        ("PUT", "/api/items/{id}"),
        ("DELETE", "/api/items/{id}"),
        ("GET", "/api/items/{id}/availability"),
        ("POST", "/api/accounts"),
        ("POST", "/api/accounts/login"),
        ("GET", "/api/accounts/me"),
        ("PUT", "/api/accounts/me"),
        ("GET", "/api/accounts/{id}"),
        ("POST", "/api/orders"),
        ("GET", "/api/orders/{id}"),
        ("PUT", "/api/orders/{id}"),
        ("POST", "/api/orders/{id}/cancel"),
        ("POST", "/api/payments"),
        ("GET", "/api/payments/{id}"),
        ("PUT", "/api/payments/{id}"),
        ("POST", "/api/payments/{id}/refund"),
    }
    payments = document["paths"]["/api/payments"]["post"]
    key = next(p for p in payments["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header"
    assert key["required"] is True


def test_every_address_in_the_openapi_document_has_one_json_shape(gateway: Gateway) -> None:
    """An order's shipping address and an account's addresses: the same shape and rule in
    bodies and answers, as GraphQL's one Address and AddressInput."""
    document = request(gateway, "GET", "/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    address_input = {"$ref": "#/components/schemas/AddressInput"}

    def body(path: str, method: str) -> dict[str, Any]:
        operation = document["paths"][path][method]
        properties: dict[str, Any] = operation["requestBody"]["content"]["application/json"][
            "schema"
        ]["properties"]
        return properties

    assert body("/api/orders", "post")["shippingAddress"] == address_input
    assert body("/api/accounts", "post")["shippingAddress"] == address_input
    assert body("/api/accounts", "post")["billingAddress"] == address_input
    for field in ("shippingAddress", "billingAddress"):  # nullable there: null clears it
        written_out = body("/api/accounts/me", "put")[field]
        assert {**written_out, "nullable": False} == {**schemas["AddressInput"], "nullable": False}
    answers = [
        schemas["Order"]["properties"]["shippingAddress"],
        schemas["Account"]["properties"]["shippingAddress"],
        schemas["Account"]["properties"]["billingAddress"],
    ]
    assert all(a == {**schemas["Address"], "nullable": True} for a in answers), answers
    assert set(schemas["Address"]["properties"]) == set(schemas["AddressInput"]["properties"])
    assert schemas["Address"]["required"] == schemas["AddressInput"]["required"]
    assert not any("Address" in name for name in schemas if name not in {"Address", "AddressInput"})


def test_the_swagger_ui_is_served_by_the_gateway_alone(gateway: Gateway) -> None:
    page = request(gateway, "GET", "/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets, assets
    assert all(a.startswith("/api/docs/") for a in assets), assets
    for asset in assets:
        response = request(gateway, "GET", asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 0, asset
    init = request(gateway, "GET", "/api/docs/init.js").text
    assert "'/api/openapi.json'" in init
    assert "http" not in init
    bundle = request(gateway, "GET", "/api/docs/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text
    assert bundle.headers["cache-control"].startswith("public")
    zipped = request(
        gateway, "GET", "/api/docs/swagger-ui-bundle.js", headers={"accept-encoding": "gzip"}
    )
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.text == bundle.text


BAD_REQUESTS = {
    "malformed JSON": (
        "POST",
        "/api/items",
        {"content": b'{"name": ', "headers": {"content-type": "application/json"}},
        400,
        "BAD_REQUEST",
    ),
    "a body that is not an object": (
        "POST",
        "/api/orders",
        {"json": [1, 2]},
        400,
        "BAD_REQUEST",
    ),
    "wrong content type": (
        "POST",
        "/api/items",
        {"content": b"name=x", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    "unknown fields": (
        "PUT",
        f"/api/items/{ITEM_ID}",
        {"json": {"name": "x", "colour": "red", "price": 3}},
        422,
        "BAD_USER_INPUT",
    ),
    "an item id that is not one": (
        "GET",
        "/api/items/not-an-id",
        {},
        422,
        "BAD_USER_INPUT",
    ),
    "an order id that is not one": (
        "GET",
        "/api/orders/1%27%20OR%201=1",
        {},
        422,
        "BAD_USER_INPUT",
    ),
    "an over-long body": (
        "POST",
        "/api/items",
        {"json": {"name": "x" * 1_100_000}},
        413,
        "REQUEST_ENTITY_TOO_LARGE",
    ),
    "a payment without an Idempotency-Key": (
        "POST",
        "/api/payments",
        {"json": {"orderId": ORDER_ID}},
        400,
        "BAD_REQUEST",
    ),
    "a refund without an Idempotency-Key": (
        "POST",
        f"/api/payments/{ORDER_ID}/refund",
        {"json": {}},
        400,
        "BAD_REQUEST",
    ),
    "an Idempotency-Key with a space": (
        "POST",
        "/api/payments",
        {"json": {"orderId": ORDER_ID}, "headers": {"idempotency-key": "my key"}},
        422,
        "BAD_USER_INPUT",
    ),
    "an idempotency key in the body": (
        "POST",
        "/api/payments",
        {
            "json": {"orderId": ORDER_ID, "idempotencyKey": "k1"},
            "headers": {"idempotency-key": "k1"},
        },
        422,
        "BAD_USER_INPUT",
    ),
    "an unknown query parameter": ("GET", "/api/items?limit=5", {}, 422, "BAD_USER_INPUT"),
    "a page size that is not a number": ("GET", "/api/items?first=ten", {}, 422, "BAD_USER_INPUT"),
    "an unknown path": ("GET", "/api/widgets", {}, 404, "NOT_FOUND"),
    "a method the path does not answer": ("PATCH", "/api/items", {}, 405, "BAD_REQUEST"),
    "no access token on a customer route": (
        "GET",
        f"/api/orders/{ORDER_ID}",
        {},
        401,
        "UNAUTHENTICATED",
    ),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_a_malformed_rest_request_is_refused_before_any_graphql_runs(
    gateway: Gateway, case: str
) -> None:
    method, path, kwargs, status, code = BAD_REQUESTS[case]
    headers = {"authorization": "Bearer not-checked-before-the-request-is-valid"}
    if case.startswith("no access token"):
        headers = {}
    options: dict[str, Any] = dict(kwargs)  # type: ignore[call-overload]  # a table row
    kwargs = {**options, "headers": {**headers, **options.get("headers", {})}}
    error = refused(request(gateway, method, path, **kwargs), status, code)
    if case == "unknown fields":
        assert error["fields"] == ["colour", "price"]
    if case.endswith("that is not one"):
        assert error["field"] == "id"
    if "Idempotency-Key" in case:
        assert "Idempotency-Key" in error["message"]


def test_a_method_the_path_does_not_answer_lists_those_it_does(gateway: Gateway) -> None:
    response = request(gateway, "PATCH", f"/api/items/{ITEM_ID}")
    assert response.headers["allow"] == "GET, PUT, DELETE"


def test_a_bad_token_is_refused_as_graphql_refuses_it(gateway: Gateway) -> None:
    """The REST call runs through the gateway's GraphQL pipeline, token check included."""
    response = request(
        gateway, "GET", "/api/accounts/me", headers={"authorization": "Bearer forged.token.x"}
    )
    refused(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"].startswith("Bearer")
