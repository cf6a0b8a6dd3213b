"""One checkout is one trace (issue 14): a whole stack on real engines exporting to an OTLP
receiver in this process (``shop``, tests/e2e/conftest.py). A client that sends one
``traceparent`` with createOrder and submitPayment (as a traced frontend does) gets spans
from the gateway, orders, items and payments, and the orders consumer's handling of the
payment event, all in that trace, the consumer's span below ``submitPayment``'s resolver
through the outbox and Kafka. A malformed ``traceparent`` is ignored: the request is
answered and a new trace starts at the gateway."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import httpx
import pytest

from stack.local import LocalStack
from tests.e2e.client import Gateway, eventually
from tests.e2e.test_user_flow import (
    CARD_OK,
    admin_token,
    create_item,
    wait_for_status,
)
from tests.support.documents import CREATE_ORDER, SUBMIT_PAYMENT
from tests.support.otlp import OtlpReceiver, ReceivedSpan

pytestmark = pytest.mark.e2e


class TracedClient:
    """Posts GraphQL to the gateway with a ``traceparent`` of its own choosing."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def post(
        self, query: str, variables: dict, token: str, traceparent: str
    ) -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(
                self.url,
                json={"query": query, "variables": variables},
                headers={"authorization": f"Bearer {token}", "traceparent": traceparent},
            )


def by_service(spans: list[ReceivedSpan]) -> dict[str, list[ReceivedSpan]]:
    grouped: dict[str, list[ReceivedSpan]] = {}
    for span in spans:
        grouped.setdefault(span.service, []).append(span)
    return grouped


async def test_one_checkout_is_one_trace_from_the_gateway_to_the_payment_consumer(
    shop: LocalStack, receiver: OtlpReceiver
) -> None:
    gateway = Gateway(shop.graphql_url)
    client = TracedClient(shop.graphql_url)
    item = await create_item(gateway, await admin_token(gateway), stock=5)
    customer = await gateway.register(f"t{uuid.uuid4().hex[:8]}@e2e.test")
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"

    created = await client.post(
        CREATE_ORDER,
        {"i": {"lines": [{"itemId": item["id"], "quantity": 1}]}},
        customer,
        traceparent,
    )
    order = created.json()["data"]["createOrder"]
    paid = await client.post(
        SUBMIT_PAYMENT,
        {"i": {"orderId": order["id"], "idempotencyKey": uuid.uuid4().hex, "card": CARD_OK}},
        customer,
        traceparent,
    )
    assert paid.json()["data"]["submitPayment"]["status"] == "SUCCEEDED", paid.json()
    await wait_for_status(gateway, customer, order["id"], "PAID")

    services = {"shop-gateway", "shop-orders", "shop-items", "shop-payments"}

    async def whole_trace() -> ReceivedSpan | None:
        """The orders consumer's span, once every process has exported its part (each
        batches its spans for a fraction of a second)."""
        spans = receiver.trace(trace_id)
        consumer = next(
            (
                s
                for s in spans
                if s.service == "shop-orders"
                and s.kind == "consumer"
                and s.name == "payment.succeeded process"
            ),
            None,
        )
        if consumer is None or not services <= {s.service for s in spans}:
            return None
        above = list(receiver.ancestors(consumer))
        return consumer if above and above[-1].service == "shop-gateway" else None

    consumer = await eventually(whole_trace, timeout=20)
    assert receiver.rejected == 0, "every export is an OTLP/HTTP protobuf request"
    spans = by_service(receiver.trace(trace_id))

    # Each service's part: the gateway's subgraph calls, each subgraph's server span continuing
    # them, and the GraphQL resolvers (items reserves the stock createOrder asks for).
    assert any(s.kind == "server" for s in spans["shop-gateway"])
    for service in ("shop-orders", "shop-items", "shop-payments"):
        assert any(s.kind == "server" for s in spans[service]), (service, spans[service])
    assert any(s.name == "GraphQL Resolving: createOrder" for s in spans["shop-orders"])

    # The database calls of the request, in the same trace: MongoDB (items, through motor)
    # and MySQL (payments, through SQLAlchemy). The CQL driver of orders has no instrumentation.
    def databases(service: str) -> set[str]:
        return {
            str(value)
            for s in spans[service]
            for key, value in s.attributes.items()
            if key in ("db.system", "db.system.name")
        }

    assert "mongodb" in databases("shop-items"), spans["shop-items"]
    assert "mysql" in databases("shop-payments"), spans["shop-payments"]
    submit = [s for s in spans["shop-payments"] if s.name == "GraphQL Resolving: submitPayment"]
    assert len(submit) == 1, spans["shop-payments"]

    # The consumer's span hangs, through the payments relay's producer span, under the
    # submitPayment resolver that wrote the event: the context crossed the outbox and Kafka.
    above = list(receiver.ancestors(consumer))
    assert submit[0] in above, [(s.service, s.name) for s in above]
    producer = above[0]
    assert (producer.service, producer.kind, producer.name) == (
        "shop-payments",
        "producer",
        "shop.payment publish",
    )
    # The trace reaches back to the gateway's request, which continued the client's span.
    assert above[-1].service == "shop-gateway"
    assert above[-1].parent_id == traceparent[36:52]

    # Neither a card number nor a CVC nor a token reaches a trace.
    for span in receiver.trace(trace_id):
        text = repr(span.attributes)
        assert str(CARD_OK["number"]) not in text, span
        assert customer not in text, span
        assert '"cvc"' not in text.lower(), span
        assert "graphql.document" not in span.attributes, span


@pytest.mark.parametrize(
    "traceparent",
    [
        "not-a-traceparent",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # the invalid all-zero id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",  # a short trace id
    ],
)
async def test_a_malformed_traceparent_is_ignored_and_a_new_trace_starts(
    shop: LocalStack, receiver: OtlpReceiver, traceparent: str
) -> None:
    gateway = Gateway(shop.graphql_url)
    customer = await gateway.register(f"m{uuid.uuid4().hex[:8]}@e2e.test")
    response = await TracedClient(shop.graphql_url).post(
        "query { me { email } }", {}, customer, traceparent
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"]["email"].startswith("m")
    request_id = response.headers["x-request-id"]

    async def subgraph_span() -> ReceivedSpan | None:
        return next(
            (s for s in receiver.spans() if s.attributes.get("shop.request_id") == request_id),
            None,
        )

    accounts = await eventually(subgraph_span, timeout=20)
    assert accounts.service == "shop-accounts"
    assert accounts.trace_id != "0" * 32
    assert accounts.trace_id.lower() not in traceparent.lower()
    # A new trace, started by the gateway: the subgraph's span continues a gateway span, and
    # the gateway's request span is the root.

    async def gateway_root() -> list[ReceivedSpan]:
        above = list(receiver.ancestors(accounts))
        return above if above and above[-1].service == "shop-gateway" else []

    above = await eventually(gateway_root, timeout=20)
    assert above[-1].parent_id == "", above[-1]


async def test_the_gateway_returns_its_request_id_and_the_subgraph_logs_it(
    shop: LocalStack,
) -> None:
    """The id the client gets back is the one the subgraphs saw, and their log lines of the
    request carry it with the trace id."""
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            shop.graphql_url,
            json={
                "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) "
                "{ token } }",
                "variables": {"e": f"nobody{uuid.uuid4().hex[:6]}@e2e.test", "p": "wrong-pass"},
            },
        )
    request_id = response.headers["x-request-id"]
    uuid.UUID(request_id)

    async def logged() -> list[str]:
        log = Path(shop.log_dir) / "accounts.log"
        return [line for line in log.read_text().splitlines() if request_id in line]

    lines = await eventually(logged, timeout=10)
    assert any('"login refused"' in line for line in lines), lines
    assert all('"trace_id": "' in line for line in lines), lines
