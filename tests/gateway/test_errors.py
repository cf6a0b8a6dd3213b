"""What a client sees of an error, through the real gateway: every code of the catalogue
(shopkit/errors.py) with its message, anything else masked; request errors answered with a
4xx status and a code; variable values never echoed, in the answer or in the log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shopkit.errors import CATALOGUE, CODES, ErrorCode
from stack.gateway import ERROR_CODES, GATEWAY_DIR, error_codes_json
from tests.gateway.conftest import Gateway

CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
FAIL = "query($c: String!, $m: String!) { fail(code: $c, message: $m) }"
PAY = "mutation($i: PayInput!) { payWith(input: $i) }"


def card_input(**card: Any) -> dict[str, Any]:
    return {
        "orderId": "order-1",
        "card": {"number": CARD, "expMonth": 12, "expYear": 2031, "cvc": "123", **card},
    }


def post(gateway: Gateway, body: Any, **headers: str) -> httpx.Response:
    with gateway.client() as client:
        return client.post(gateway.url, json=body, headers=headers)


def only_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert len(body.get("errors", [])) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


def test_the_gateway_error_code_list_is_generated_from_the_catalogue() -> None:
    assert ERROR_CODES.read_text() == error_codes_json(), (
        "gateway/error-codes.json is stale: run `make schema` and commit the result"
    )


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.code)
def test_every_catalogued_code_reaches_the_client_with_its_message(
    gateway: Gateway, entry: ErrorCode
) -> None:
    message = (
        f"{entry.code} raised on purpose"
        if entry.code != "INTERNAL_SERVER_ERROR"
        else ("Unexpected error.")
    )
    response = gateway.post(FAIL, variables={"c": entry.code, "m": message})
    error = only_error(response)
    assert (error["message"], error["extensions"]["code"]) == (message, entry.code)
    assert error["extensions"]["detail"] == f"about {entry.code}"
    assert error["path"] == ["fail"]
    assert "serviceName" not in error["extensions"]


@pytest.mark.parametrize("code", ["SOMETHING_ELSE", "INTERNAL_SERVER_ERROR", "DOWNSTREAM_ERROR"])
def test_an_uncatalogued_code_or_an_internal_message_is_masked(gateway: Gateway, code: str) -> None:
    response = gateway.post(FAIL, variables={"c": code, "m": "db at 10.0.0.5 said no"})
    error = only_error(response)
    assert (error["message"], error["extensions"]["code"]) == (
        "Unexpected error.",
        "INTERNAL_SERVER_ERROR",
    )
    assert "10.0.0.5" not in response.text


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ hello"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "query A { hello }", "operationName": "B"}, "OPERATION_RESOLUTION_FAILURE"),
        ({"query": "query($n: Int!) { hello }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"variables": {}}, "BAD_REQUEST"),
    ],
)
def test_request_errors_answer_400_with_their_code(
    gateway: Gateway, body: dict[str, Any], code: str, accept: str
) -> None:
    response = post(gateway, body, accept=accept)
    assert response.status_code == 400, response.text
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == [code]
    assert response.json().get("data") is None


@pytest.mark.parametrize(
    ("query", "variables", "fragment"),
    [
        # a string where a number is expected (`items(first: "abc")`)
        ("query($s: Float!) { slow(seconds: $s) }", {"s": CARD}, 'Variable "$s"'),
        # an object where an id is expected
        ("query($id: ID!) { missingItem(id: $id) }", {"id": {"number": CARD}}, 'Variable "$id"'),
        # an unknown input field
        (PAY, {"i": card_input(pin=CARD)}, 'Field "pin" is not defined by type "CardInput"'),
        # a number where a string is expected, deep inside an input
        (PAY, {"i": card_input(number=int(CARD))}, 'at "i.card.number"'),
        # an integer too large for Int
        (PAY, {"i": card_input(expMonth=int(DECLINED_CARD))}, 'at "i.card.expMonth"'),
        # a missing required field and a null one
        (PAY, {"i": {"orderId": "o", "card": {"number": CARD}}}, 'Field "expMonth"'),
        (PAY, {"i": None}, 'Variable "$i" of non-null type "PayInput!" must not be null'),
        (PAY, {}, 'Variable "$i" of required type "PayInput!" was not provided'),
        (
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) }",
            {"e": "a@b.c", "p": ["correct horse battery staple", CARD]},
            'Variable "$p"',
        ),
    ],
)
def test_a_variable_that_does_not_coerce_is_bad_user_input_without_its_value(
    gateway: Gateway, query: str, variables: dict[str, Any], fragment: str
) -> None:
    response = post(gateway, {"query": query, "variables": variables})
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert {e["extensions"]["code"] for e in errors} == {"BAD_USER_INPUT"}, errors
    assert any(fragment in e["message"] for e in errors), errors
    assert response.json().get("data") is None
    for secret in (CARD, DECLINED_CARD, "correct horse battery staple", '"123"'):
        assert secret not in response.text


def test_a_value_the_subgraph_refuses_is_bad_user_input_without_its_value(
    gateway: Gateway,
) -> None:
    """The supergraph's DateTime takes anything; the subgraph's coercion message would quote
    the value."""
    response = post(
        gateway, {"query": "query($at: DateTime!) { later(at: $at) }", "variables": {"at": CARD}}
    )
    error = only_error(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["message"] == 'An argument of "later" has an invalid value.'
    assert CARD not in response.text


def test_the_log_holds_none_of_the_refused_values(gateway: Gateway) -> None:
    for variables in ({"s": CARD}, {"s": {"cvc": "123", "number": DECLINED_CARD}}):
        post(gateway, {"query": "query($s: Float!) { slow(seconds: $s) }", "variables": variables})
    post(gateway, {"query": "query($at: DateTime!) { later(at: $at) }", "variables": {"at": CARD}})
    # Malformed JSON quoting a card: V8's message quotes it.
    gateway.post_content(
        '{"query": "{ hello }", "variables": {"n": "' + CARD + '"', "application/json"
    )
    log = gateway.log_path.read_text()
    assert CARD not in log
    assert DECLINED_CARD not in log


def test_a_50_mb_body_is_refused_with_413_and_a_code(gateway: Gateway) -> None:
    body = b'{"query": "{ hello }", "variables": {"x": "' + b"a" * 50_000_000 + b'"}}'
    response = gateway.post_content(body, "application/json")
    assert response.status_code == 413, response.text
    assert only_error(response)["extensions"]["code"] == "REQUEST_ENTITY_TOO_LARGE"


def test_a_streamed_body_without_length_is_cut_off_at_the_limit_with_413(gateway: Gateway) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ hello }", "variables": {"x": "'
        for _ in range(40):
            yield b"a" * 65_536
        yield b'"}}'

    response = gateway.post_content(chunks(), "application/json")
    assert response.status_code == 413, response.text
    assert only_error(response)["extensions"]["code"] == "REQUEST_ENTITY_TOO_LARGE"


def test_a_body_under_the_limit_is_served(gateway: Gateway) -> None:
    response = gateway.post("{ hello }", variables={"x": "a" * 500_000})
    assert response.json() == {"data": {"hello": "world"}}


def test_a_wrong_content_type_is_refused_with_415_and_a_code(gateway: Gateway) -> None:
    response = gateway.post_content("<query>{ hello }</query>", "application/xml")
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("application/json")
    assert only_error(response)["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_malformed_json_is_bad_request(gateway: Gateway) -> None:
    response = gateway.post_content("{", "application/json")
    assert response.status_code == 400
    assert only_error(response)["extensions"]["code"] == "BAD_REQUEST"


def test_every_code_the_gateway_produces_is_in_the_catalogue(gateway: Gateway) -> None:
    """The refusals above, the masked error and the limits all use catalogued codes."""
    seen: set[str] = set()
    for body in (
        {"query": "{ hello"},
        {"query": "{ nope }"},
        {"query": "{ crash }"},
        {"query": "{ " + "hello " * 2001 + "}"},
        {"query": "{ " + " ".join(f"a{i}: hello" for i in range(31)) + " }"},
    ):
        seen.update(e["extensions"]["code"] for e in post(gateway, body).json()["errors"])
    assert seen <= set(CODES), seen - set(CODES)


# Where the gateway's sources give an error its code: `code: 'X'`, `code ??= 'X'`,
# `code = cond ? 'X' : 'Y'`, refuse('X', …), requestError('X', …), jsonError('X', …),
# new RestError(405, 'X', …).
CODE_LITERALS = [
    re.compile(r"\bcode\s*(?::|\?\?=|=(?!=))\s*'([A-Z_]+)'"),
    re.compile(r"\bcode\s*=\s*\w+\s*\?\s*'([A-Z_]+)'\s*:\s*'([A-Z_]+)'"),
    re.compile(r"\b(?:refuse|requestError|jsonError)\(\s*'([A-Z_]+)'"),
    re.compile(r"\bRestError\(\s*\d+,\s*'([A-Z_]+)'"),
]


def codes_given_in(source: str) -> set[str]:
    found: set[str] = set()
    for pattern in CODE_LITERALS:
        for match in pattern.finditer(source):
            found.update(group for group in match.groups() if group)
    return found


def test_every_code_the_gateways_sources_give_an_error_is_catalogued() -> None:
    """A new refusal in the gateway (GraphQL or REST) with a code that is not in the catalogue
    fails here, before any client sees it; the other tests of this file and of
    test_endpoints.py / test_rest.py call each refusal path and check its answer."""
    sources = sorted(GATEWAY_DIR.glob("*.ts")) + sorted((GATEWAY_DIR / "rest").glob("*.ts"))
    given = {code for path in sources for code in codes_given_in(path.read_text())}
    assert given >= {
        "BAD_REQUEST",
        "BAD_USER_INPUT",
        "NOT_FOUND",
        "RATE_LIMITED",
        "REQUEST_ENTITY_TOO_LARGE",
        "SERVICE_UNAVAILABLE",
        "UNAUTHENTICATED",
        "UNSUPPORTED_MEDIA_TYPE",
    }, given
    assert given <= set(CODES), given - set(CODES)


def test_the_source_scan_finds_each_way_of_giving_a_code() -> None:
    source = """
      new GraphQLError(m, { extensions: { code: 'A_CODE' } });
      extensions.code ??= 'B_CODE';
      own.code = coercion ? 'C_CODE' : 'D_CODE';
      if (code === 'NOT_GIVEN') return;
      refuse('E_CODE', 'message');
      requestError('F_CODE', 'message');
      jsonError('G_CODE', 'message', 400);
      throw new RestError(405, 'H_CODE', 'message');
    """
    assert codes_given_in(source) == {f"{c}_CODE" for c in "ABCDEFGH"}
