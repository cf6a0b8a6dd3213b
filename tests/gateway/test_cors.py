"""CORS: only the origins of SHOP_CORS_ORIGINS get CORS headers (with credentials); no other
origin is ever reflected, in development or in production."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from stack.gateway import GatewayError, start_gateway
from stack.process import free_port
from tests.gateway.conftest import Gateway, Keys, start_test_gateway

ALLOWED = "https://shop.example"
ALSO_ALLOWED = "http://localhost:3000"
EVIL = "https://evil.example"


@pytest.fixture(scope="module", params=["development", "production"])
def cors_gateway(
    request: pytest.FixtureRequest,
    supergraph: Path,
    keys: Keys,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Gateway]:
    yield from start_test_gateway(
        supergraph,
        keys,
        tmp_path_factory.mktemp("gateway-cors"),
        SHOP_ENV=request.param,
        SHOP_CORS_ORIGINS=f"{ALLOWED}, {ALSO_ALLOWED}",
    )


def preflight(gateway: Gateway, origin: str) -> httpx.Response:
    with gateway.client() as client:
        return client.options(
            gateway.url,
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, authorization",
            },
        )


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


@pytest.mark.parametrize("origin", [ALLOWED, ALSO_ALLOWED])
def test_an_allowed_origin_gets_itself_back_with_credentials(
    cors_gateway: Gateway, origin: str
) -> None:
    response = cors_gateway.post("{ hello }", headers={"origin": origin})
    assert response.json() == {"data": {"hello": "world"}}
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    allowed = preflight(cors_gateway, origin).headers
    assert allowed["access-control-allow-origin"] == origin
    assert "authorization" in allowed["access-control-allow-headers"]
    assert "POST" in allowed["access-control-allow-methods"]
    # The REST API's methods and its money-moving header (gateway/rest/).
    assert {"PUT", "DELETE"} <= {
        m.strip() for m in allowed["access-control-allow-methods"].split(",")
    }
    assert "idempotency-key" in allowed["access-control-allow-headers"]


@pytest.mark.parametrize(
    "origin", [EVIL, "null", f"{ALLOWED}.evil.example", "http://shop.example", f"{ALLOWED}:8443"]
)
def test_any_other_origin_gets_no_cors_header(cors_gateway: Gateway, origin: str) -> None:
    response = cors_gateway.post("{ hello }", headers={"origin": origin})
    assert cors_headers(response) == {}, response.headers
    assert cors_headers(preflight(cors_gateway, origin)) == {}


def test_without_an_allow_list_no_origin_is_reflected(gateway: Gateway) -> None:
    response = gateway.post("{ hello }", headers={"origin": EVIL})
    assert cors_headers(response) == {}, response.headers
    assert cors_headers(preflight(gateway, EVIL)) == {}
    assert cors_headers(preflight(gateway, ALLOWED)) == {}


NOT_ORIGINS = ["*", "https://shop.example/", "shop.example", "https://a.b/path"]


@pytest.fixture(scope="module")
def refusals(supergraph: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What the gateway said when started with each of NOT_ORIGINS ("started" if it did),
    all started side by side: each start loads the whole gateway, about 3 s of this machine."""
    folder = tmp_path_factory.mktemp("cors-refusals")

    def start(n: int, origins: str) -> str:
        try:
            process = start_gateway(
                supergraph,
                free_port(),
                {"SHOP_GATEWAY_SECRET": "x" * 32, "SHOP_CORS_ORIGINS": origins},
                log_path=folder / f"gw-{n}.log",
                timeout=30,
            )
        except GatewayError as refused:
            return str(refused)
        process.stop()
        return "started"

    with ThreadPoolExecutor(len(NOT_ORIGINS)) as pool:
        said = pool.map(start, range(len(NOT_ORIGINS)), NOT_ORIGINS)
    return dict(zip(NOT_ORIGINS, said, strict=True))


@pytest.mark.parametrize("origins", NOT_ORIGINS)
def test_the_gateway_refuses_to_start_with_an_origin_that_is_not_one(
    refusals: dict[str, str], origins: str
) -> None:
    assert "SHOP_CORS_ORIGINS" in refusals[origins], refusals[origins]
