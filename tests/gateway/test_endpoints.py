"""The gateway's own endpoints, through the real gateway: /metrics in Prometheus format,
/healthz and /readyz (with the old paths as redirects), GraphiQL opening on an example
operation and served compressed and cacheable, and a catalogued ``extensions.code`` on
every error the gateway makes itself."""

from __future__ import annotations

import gzip
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import brotli
import httpx
import pytest

from shopkit.errors import CODES
from tests.gateway.conftest import Gateway


def base(gateway: Gateway) -> str:
    return gateway.url.removesuffix("/graphql")


def metric(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` whose labels include ``labels`` (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^(\w+)\{(.*)\} (\S+)$", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2]))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match[3])
    return total


def test_metrics_count_requests_errors_and_latency_per_operation_and_subgraph(
    gateway: Gateway,
) -> None:
    with gateway.client() as client:
        before = client.get(f"{base(gateway)}/metrics").text
        for _ in range(3):
            assert gateway.post("query MetricsHello { hello }").json() == {
                "data": {"hello": "world"}
            }
        gateway.post("query MetricsCrash { crash }")
        response = client.get(f"{base(gateway)}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = response.text
    requests = "graphql_envelop_request"
    assert metric(after, requests, operationName="MetricsHello") - metric(
        before, requests, operationName="MetricsHello"
    ) == pytest.approx(3)
    assert metric(
        after, "graphql_envelop_request_duration_count", operationName="MetricsHello"
    ) == pytest.approx(3)
    assert metric(
        after, "graphql_envelop_request_duration_bucket", operationName="MetricsHello", le="+Inf"
    ) == pytest.approx(3)
    assert metric(
        after,
        "graphql_gateway_subgraph_execute_duration_count",
        operationName="MetricsHello",
        subgraphName="stub",
    ) == pytest.approx(3)
    assert metric(after, "graphql_envelop_error_result", operationName="MetricsCrash") >= 1
    assert (
        metric(
            after,
            "graphql_gateway_subgraph_execute_errors",
            operationName="MetricsCrash",
            subgraphName="stub",
        )
        >= 1
    )


def test_health_paths_are_the_subgraphs_and_the_old_ones_redirect(gateway: Gateway) -> None:
    with gateway.client() as client:
        assert client.get(f"{base(gateway)}/healthz").status_code == 200
        assert client.get(f"{base(gateway)}/readyz").status_code == 200
        for old, new in (("/healthcheck", "/healthz"), ("/readiness", "/readyz")):
            moved = client.get(f"{base(gateway)}{old}")
            assert (moved.status_code, moved.headers["location"]) == (308, new)
            followed = client.get(f"{base(gateway)}{old}", follow_redirects=True)
            assert followed.status_code == 200


def graphiql(gateway: Gateway, **headers: str) -> httpx.Response:
    with gateway.client() as client:
        return client.get(gateway.url, headers={"accept": "text/html", **headers})


@pytest.mark.parametrize(
    ("encoding", "decode"), [("br", brotli.decompress), ("gzip", gzip.decompress)]
)
def test_graphiql_is_sent_compressed(gateway: Gateway, encoding: str, decode) -> None:
    plain = graphiql(gateway, **{"accept-encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    with (
        gateway.client() as client,
        client.stream(
            "GET", gateway.url, headers={"accept": "text/html", "accept-encoding": encoding}
        ) as response,
    ):
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == encoding
    assert len(raw) < len(plain.content) / 5, (len(raw), len(plain.content))
    assert decode(raw) == plain.content
    assert response.headers["etag"] == plain.headers["etag"]


def test_graphiql_is_cacheable_with_an_etag(gateway: Gateway) -> None:
    first = graphiql(gateway)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = graphiql(gateway, **{"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert graphiql(gateway, **{"if-none-match": '"other"'}).status_code == 200


def test_graphiql_opens_on_an_example_operation(gateway: Gateway) -> None:
    page = graphiql(gateway).text
    assert "HiveLaboratory.renderLaboratory" in page
    assert "hive-laboratory:tabs" in page
    assert "shop-example-tab" in page
    assert "query Catalog($first: Int!, $after: String)" in page


@pytest.fixture(scope="module")
def fresh_gateway(new_gateway: Callable[..., Gateway]) -> Gateway:
    """A gateway that has not compressed GraphiQL yet."""
    return new_gateway()


def test_the_gateway_keeps_serving_while_it_compresses_graphiql(fresh_gateway: Gateway) -> None:
    """Compressing 21.6 MB takes seconds of CPU; it runs off the event loop, so a query sent
    meanwhile is answered well before the compressed page (were the loop blocked, the query
    would wait for the compression to end)."""

    def page_done() -> float:
        assert graphiql(fresh_gateway, **{"accept-encoding": "br"}).status_code == 200
        return time.monotonic()

    latencies = []
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        page = pool.submit(page_done)
        time.sleep(0.1)
        while not page.done():
            sent = time.monotonic()
            assert fresh_gateway.post("{ hello }").json() == {"data": {"hello": "world"}}
            latencies.append(time.monotonic() - sent)
        compressing = page.result() - started
    # Were the loop blocked, one query would wait about as long as the whole compression.
    assert compressing > 0.5, f"the page took {compressing:.2f} s: too fast to tell"
    assert max(latencies) < compressing / 2, (
        f"a query waited {max(latencies):.2f} s while the page took {compressing:.2f} s"
    )


@pytest.fixture(scope="module")
def strict_gateway(new_gateway: Callable[..., Gateway]) -> Gateway:
    return new_gateway(SHOP_AUTH_RATE_LIMIT="1", SHOP_MAX_REQUEST_BYTES="2000")


def test_every_error_the_gateway_makes_itself_has_a_catalogued_code(
    strict_gateway: Gateway,
) -> None:
    """CSRF, body and query limits, the rate limit, parse and validation errors, a method or
    a path the gateway does not serve."""
    gateway = strict_gateway
    with gateway.client() as client:
        answers = {
            "unknown path": client.get(f"{base(gateway)}/nope"),
            "path below graphql": client.post(
                f"{base(gateway)}/graphql/x", json={"query": "{ hello }"}
            ),
            "method": client.put(gateway.url, json={"query": "{ hello }"}),
            "csrf": client.get(gateway.url, params={"query": "{ hello }"}),
            "form post": client.post(
                gateway.url,
                content="query={hello}",
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
            "too large": client.post(gateway.url, json={"query": "{ hello }", "x": "a" * 3000}),
            "parse": client.post(gateway.url, json={"query": "{ hello"}),
            "validation": client.post(gateway.url, json={"query": "{ nope }"}),
            "depth": client.post(
                gateway.url, json={"query": "{ root " + "{ child " * 11 + "{ name }" + " }" * 12}
            ),
            "aliases": client.post(
                gateway.url,
                json={"query": "{ " + " ".join(f"a{i}: hello" for i in range(31)) + " }"},
            ),
            "operation name": client.post(
                gateway.url, json={"query": "{ hello }", "operationName": "Nope"}
            ),
            "variables": client.post(
                gateway.url,
                json={"query": "query($n: Int!) { hello }", "variables": {"n": "x"}},
            ),
        }
        login = 'mutation { login(email: "a@b.c", password: "pw") }'
        client.post(gateway.url, json={"query": login})
        answers["rate limit"] = client.post(gateway.url, json={"query": login})
    for what, response in answers.items():
        assert 400 <= response.status_code < 500, (what, response.status_code, response.text)
        errors = response.json()["errors"]
        codes = {e.get("extensions", {}).get("code") for e in errors}
        assert None not in codes, (what, response.text)
        assert codes <= set(CODES), (what, response.text)
    assert answers["csrf"].status_code == 403
    assert answers["rate limit"].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert answers["too large"].status_code == 413
    assert answers["unknown path"].status_code == 404
    assert answers["unknown path"].json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
