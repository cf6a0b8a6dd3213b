"""Query limits, error masking, CSRF prevention and batching at the gateway (development mode)."""

from __future__ import annotations

import httpx

from tests.gateway.conftest import Gateway


def nested(depth: int) -> str:
    """`{ root { child { ... name } } }` whose deepest field is at ``depth``."""
    return "{ root " + "{ child " * (depth - 2) + "{ name }" + " }" * (depth - 2) + " }"


def error_messages(response: httpx.Response) -> list[str]:
    return [e["message"] for e in response.json().get("errors", [])]


def assert_refused(response: httpx.Response, fragment: str) -> None:
    body = response.json()
    assert body.get("data") is None, body
    assert any(fragment in m for m in error_messages(response)), body


def test_query_at_depth_10_is_served(gateway: Gateway) -> None:
    response = gateway.post(nested(10))
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()


def test_query_deeper_than_10_is_refused(gateway: Gateway) -> None:
    assert_refused(gateway.post(nested(11)), "depth limit of 10")


def test_thirty_aliases_are_served_and_thirty_one_refused(gateway: Gateway) -> None:
    ok = gateway.post("{ " + " ".join(f"a{i}: hello" for i in range(30)) + " }")
    assert ok.status_code == 200, ok.text
    assert "errors" not in ok.json(), ok.text
    assert_refused(
        gateway.post("{ " + " ".join(f"a{i}: hello" for i in range(31)) + " }"),
        "Aliases limit of 30",
    )


def test_document_over_2000_tokens_is_refused(gateway: Gateway) -> None:
    ok = gateway.post("{ " + "hello " * 500 + "}")
    assert ok.status_code == 200, ok.text
    assert "errors" not in ok.json(), ok.text
    assert_refused(gateway.post("{ " + "hello " * 2001 + "}"), "Token limit of 2000")


def test_more_than_50_directives_are_refused(gateway: Gateway) -> None:
    ok = gateway.post("{ " + "hello @include(if: true) " * 50 + "}")
    assert ok.status_code == 200, ok.text
    assert "errors" not in ok.json(), ok.text
    assert_refused(
        gateway.post("{ " + "hello @include(if: true) " * 51 + "}"), "Directives limit of 50"
    )


def test_unexpected_subgraph_error_is_masked(gateway: Gateway) -> None:
    response = gateway.post("{ hello crash }")
    assert "hunter2" not in response.text
    assert "db-internal" not in response.text
    errors = response.json()["errors"]
    assert [e["message"] for e in errors] == ["Unexpected error."]
    assert errors[0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "serviceName" not in errors[0]["extensions"]


def test_coded_subgraph_errors_pass_through_with_message_and_code(gateway: Gateway) -> None:
    response = gateway.post('{ missingItem(id: "42") }')
    errors = response.json()["errors"]
    assert [(e["message"], e["extensions"]["code"]) for e in errors] == [
        ("Item 42 not found", "NOT_FOUND")
    ]
    response = gateway.post("{ badInput }")
    errors = response.json()["errors"]
    assert [(e["message"], e["extensions"]["code"]) for e in errors] == [
        ("quantity must be positive", "BAD_USER_INPUT")
    ]


def test_validation_errors_are_not_masked(gateway: Gateway) -> None:
    response = gateway.post("{ noSuchField }")
    assert response.json().get("data") is None
    assert any("noSuchField" in m for m in error_messages(response)), response.text


def test_simple_get_without_csrf_header_is_refused(gateway: Gateway) -> None:
    with gateway.client() as client:
        refused = client.get(gateway.url, params={"query": "{ hello }"})
        assert refused.status_code == 403, refused.text
        assert "hello" not in refused.text or "world" not in refused.text
        allowed = client.get(
            gateway.url,
            params={"query": "{ hello }"},
            headers={"x-graphql-csrf": "1", "accept": "application/json"},
        )
        assert allowed.status_code == 200, allowed.text
        assert allowed.json() == {"data": {"hello": "world"}}


def test_simple_form_post_is_refused(gateway: Gateway) -> None:
    response = gateway.post_content(
        '{"query": "mutation { register(email: \\"x@y.z\\", password: \\"p\\") }"}', "text/plain"
    )
    assert response.status_code >= 400
    assert "registered-" not in response.text


def test_introspection_and_graphiql_are_available_in_development(gateway: Gateway) -> None:
    response = gateway.post("{ __schema { queryType { name } } }")
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    with gateway.client() as client:
        page = client.get(gateway.url, headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]


def test_batched_request_is_refused(gateway: Gateway) -> None:
    with gateway.client() as client:
        response = client.post(gateway.url, json=[{"query": "{ hello }"}, {"query": "{ hello }"}])
    assert response.status_code == 400, response.text
    assert "world" not in response.text
    assert response.json()["errors"], response.text
