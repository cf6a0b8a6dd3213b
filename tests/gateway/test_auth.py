"""JWT verification at the gateway and the headers it forwards to subgraphs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from stack.process import free_port
from tests.gateway.conftest import Gateway, Keys, start_test_gateway

FORWARDED = "{ forwarded { authorization gatewaySecret serviceToken headerNames } }"
# What a subgraph may receive: transport headers made by the gateway, and the four it adds.
ALLOWED_UPSTREAM_HEADERS = {
    "accept",
    "accept-encoding",
    "authorization",
    "connection",
    "content-length",
    "content-type",
    "host",
    "user-agent",
    "x-client-ip",
    "x-gateway-secret",
    "x-request-id",
}


def assert_unauthenticated(response: httpx.Response) -> None:
    body = response.json()
    assert body.get("data") is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
    assert response.status_code == 401


def test_anonymous_request_gets_data_and_the_gateway_secret_reaches_the_subgraph(
    gateway: Gateway,
) -> None:
    response = gateway.post(FORWARDED)
    assert response.status_code == 200, response.text
    forwarded = response.json()["data"]["forwarded"]
    assert forwarded["authorization"] is None
    assert forwarded["gatewaySecret"] == gateway.secret


def test_valid_token_is_accepted_and_forwarded_to_the_subgraph(
    gateway: Gateway, keys: Keys
) -> None:
    token = keys.token()
    response = gateway.post(FORWARDED, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    forwarded = response.json()["data"]["forwarded"]
    assert forwarded["authorization"] == f"Bearer {token}"
    assert forwarded["gatewaySecret"] == gateway.secret


@pytest.mark.parametrize(
    "case",
    [
        "bad_signature",
        "expired",
        "wrong_audience",
        "wrong_issuer",
        "no_expiry",
        "alg_none",
        "hs256_with_public_key",
        "unknown_kid",
        "garbage",
        "not_bearer",
    ],
)
def test_invalid_token_is_refused_with_unauthenticated_and_no_data(
    gateway: Gateway, keys: Keys, case: str
) -> None:
    now = int(time.time())
    if case == "bad_signature":
        token = keys.token(key=keys.attacker)
    elif case == "expired":
        token = keys.token(iat=now - 600, exp=now - 300)
    elif case == "wrong_audience":
        token = keys.token(aud="another-service")
    elif case == "wrong_issuer":
        token = keys.token(iss="evil-issuer")
    elif case == "no_expiry":
        token = keys.token(exp=None)
    elif case == "alg_none":
        claims = {"sub": "admin", "iss": "shop-accounts", "aud": "shop", "exp": now + 300}
        token = jwt.encode(claims, "", algorithm="none", headers={"kid": "test-key-1"})
    elif case == "hs256_with_public_key":
        # Algorithm confusion: the public key used as an HMAC secret.
        from cryptography.hazmat.primitives import serialization

        public_pem = keys.signing.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        token = _hs256_token(public_pem, now)
    elif case == "unknown_kid":
        token = keys.token(key=keys.attacker, kid="attacker-key")
    elif case == "garbage":
        token = "not.a.jwt"
    else:
        token = ""
    header = f"Basic {keys.token()}" if case == "not_bearer" else f"Bearer {token}"
    response = gateway.post(FORWARDED, headers={"Authorization": header})
    assert_unauthenticated(response)


def _hs256_token(secret: bytes, now: int) -> str:
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "test-key-1"}).encode())
    claims = {"sub": "admin", "iss": "shop-accounts", "aud": "shop", "exp": now + 300}
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def test_invalid_token_is_refused_on_mutations_without_calling_the_subgraph(
    gateway: Gateway, keys: Keys
) -> None:
    before = gateway.post("{ authCalls { register } }").json()["data"]["authCalls"]["register"]
    response = gateway.post(
        'mutation { register(email: "a@b.c", password: "pw") }',
        headers={"Authorization": f"Bearer {keys.token(key=keys.attacker)}"},
    )
    assert_unauthenticated(response)
    after = gateway.post("{ authCalls { register } }").json()["data"]["authCalls"]["register"]
    assert after == before


def test_client_sent_service_token_and_gateway_secret_never_reach_the_subgraph(
    gateway: Gateway,
) -> None:
    response = gateway.post(
        FORWARDED,
        headers={
            "x-service-token": "client-forged-service-token",
            "x-gateway-secret": "client-guessed-secret",
        },
    )
    assert response.status_code == 200, response.text
    forwarded = response.json()["data"]["forwarded"]
    assert forwarded["serviceToken"] is None
    assert forwarded["gatewaySecret"] == gateway.secret
    assert "x-service-token" not in forwarded["headerNames"]


def test_no_other_client_header_is_forwarded(gateway: Gateway) -> None:
    client_headers = {
        "cookie": "session=abc",
        "x-forwarded-for": "10.0.0.1",
        "x-request-id": "client-chosen-id",
        "user-agent": "client-agent/1.0",
        "x-custom": "anything",
        "origin": "http://evil.example",
    }
    query = (
        '{ forwarded { headerNames } rid: header(name: "x-request-id") '
        'ua: header(name: "user-agent") }'
    )
    response = gateway.post(query, headers=client_headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data["forwarded"]["headerNames"]) <= ALLOWED_UPSTREAM_HEADERS, data
    assert data["rid"]
    assert data["rid"] != "client-chosen-id"
    assert data["ua"] != "client-agent/1.0"


def test_the_client_address_reaches_the_subgraph_from_the_socket_never_from_a_header(
    gateway: Gateway,
) -> None:
    query = '{ ip: header(name: "x-client-ip") }'
    spoofed = {
        "x-client-ip": "203.0.113.9",
        "x-forwarded-for": "203.0.113.10",
        "x-real-ip": "203.0.113.11",
    }
    with gateway.client("127.0.0.41") as client:
        first = client.post(gateway.url, json={"query": query}, headers=spoofed)
    with gateway.client("127.0.0.42") as client:
        second = client.post(gateway.url, json={"query": query})
    assert first.json() == {"data": {"ip": "127.0.0.41"}}, first.text
    assert second.json() == {"data": {"ip": "127.0.0.42"}}, second.text


def test_request_extensions_cannot_set_the_headers_sent_to_a_subgraph(gateway: Gateway) -> None:
    """The transport sends `extensions.headers` of a subgraph request as headers: a client's
    own `extensions` must never become that."""
    query = '{ ip: header(name: "x-client-ip") token: header(name: "x-service-token") }'
    forged = {"headers": {"x-client-ip": "203.0.113.9", "x-service-token": "forged"}}
    with gateway.client("127.0.0.43") as client:
        response = client.post(gateway.url, json={"query": query, "extensions": forged})
    assert response.json() == {"data": {"ip": "127.0.0.43", "token": None}}, response.text


@pytest.fixture(scope="module")
def gateway_without_jwks(
    supergraph: Path, keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A gateway whose accounts JWKS cannot be reached."""
    unreachable = Keys(keys.signing, keys.attacker, f"http://127.0.0.1:{free_port()}/jwks.json")
    yield from start_test_gateway(supergraph, unreachable, tmp_path_factory.mktemp("no-jwks"))


def test_a_token_that_cannot_be_checked_is_service_unavailable_not_unexpected(
    gateway_without_jwks: Gateway, keys: Keys
) -> None:
    response = gateway_without_jwks.post(
        FORWARDED, headers={"Authorization": f"Bearer {keys.token()}"}
    )
    assert response.status_code == 503, response.text
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert gateway_without_jwks.post("{ hello }").json() == {"data": {"hello": "world"}}
