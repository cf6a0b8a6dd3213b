"""The shop the benchmark measures: where it is, a GraphQL client of it, and the data it needs
(items, a customer with a paid order of 20 lines), made through the gateway as a frontend
and an admin would."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from stack.local import SUBGRAPHS, LocalStack, Ports
from stack.process import REPO_ROOT
from tests.support.documents import LOGIN, ORDER_STATUS, REGISTER, SUBMIT_PAYMENT
from tests.support.graphql import graphql_post, teapot_input

CARD_OK = {"number": "4242424242424242", "expMonth": 12, "expYear": 2031, "cvc": "123"}
PASSWORD = "bench-correct-horse-battery-staple"

ITEMS_PAGE = (
    "query Catalog { items(first: 20) { edges { cursor node { id upc name description "
    "unitPrice { amount currency } imageUrls attributes availability { available inStock } } } "
    "pageInfo { hasNextPage endCursor } } }"
)
ITEM = (
    "query Item($id: ID!) { item(id: $id) { id upc name description "
    "unitPrice { amount currency } availability { available inStock } } }"
)
TYPENAME = "{ __typename }"
ORDER_FLAGSHIP = (
    "query Order($id: ID!) { order(id: $id) { status total { amount currency } "
    "lines { quantity item { name upc unitPrice { amount currency } } } "
    "payment { status amount { amount currency } method { last4 } } customer { email } } }"
)
# One query per subgraph that only that subgraph answers (gateway overhead, and the parts of
# the flagship's plan).
ORDER_ONLY = (
    "query OrderOnly($id: ID!) { order(id: $id) { id status total { amount currency } "
    "lines { quantity unitPrice { amount currency } } } }"
)
ME = "query Me { me { id email name } }"
PAYMENT_ONLY = (
    "query Payment($id: ID!) { payment(id: $id) { id status amount { amount currency } "
    "method { last4 } } }"
)


class ShopError(RuntimeError):
    """The shop answered with errors where the benchmark needed data."""

    def __init__(self, message: str, codes: list[str] | None = None, retryable: bool = False):
        super().__init__(message)
        self.codes = codes or []
        # SERVICE_UNAVAILABLE ("try again shortly"), or the payment of the same key still
        # running (CONFLICT, reason IDEMPOTENCY_IN_PROGRESS): the catalogue says to retry
        self.retryable = retryable


@dataclass
class Shop:
    """Where the gateway and the subgraphs are, and the secret a direct subgraph call needs."""

    gateway_url: str
    subgraph_urls: dict[str, str]
    gateway_secret: str | None
    admin: tuple[str, str]
    env: dict[str, str] = field(default_factory=dict)  # for ops.reconcile
    stack: LocalStack | None = None

    @classmethod
    def of_stack(cls, stack: LocalStack) -> Shop:
        env = stack.env()
        return cls(
            gateway_url=stack.graphql_url,
            subgraph_urls={name: stack.ports.url(name) for name in SUBGRAPHS},
            gateway_secret=env["SHOP_GATEWAY_SECRET"],
            admin=stack.admin_credentials(),
            env=env,
            stack=stack,
        )

    @classmethod
    def at(cls, gateway_url: str) -> Shop:
        """A running shop (``make up``): the subgraphs on the ports of ``SHOP_<NAME>_PORT``
        (or the defaults) and the gateway secret from ``SHOP_GATEWAY_SECRET`` or
        ``.data/secrets.env``."""
        secret = os.environ.get("SHOP_GATEWAY_SECRET")
        secrets_file = REPO_ROOT / ".data" / "secrets.env"
        if not secret and secrets_file.exists():
            for line in secrets_file.read_text().split():
                name, _, value = line.partition("=")
                if name == "SHOP_GATEWAY_SECRET":
                    secret = value
        ports = Ports.from_env()
        return cls(
            gateway_url=gateway_url,
            subgraph_urls={name: ports.url(name) for name in SUBGRAPHS},
            gateway_secret=secret,
            admin=(
                os.environ.get("SHOP_ADMIN_EMAIL", "admin@shop.local"),
                os.environ.get("SHOP_ADMIN_PASSWORD", "admin-password-change-me"),
            ),
            env=dict(os.environ),
        )

    def direct_headers(self, token: str | None = None) -> dict[str, str]:
        """Headers of a request sent straight to a subgraph, as the gateway sends it."""
        if not self.gateway_secret:
            raise ShopError("direct subgraph calls need SHOP_GATEWAY_SECRET")
        headers = {"x-gateway-secret": self.gateway_secret}
        if token:
            headers["authorization"] = f"Bearer {token}"
        return headers


class Client:
    """An asynchronous GraphQL client of the gateway (one connection pool for all callers)."""

    def __init__(self, url: str, connections: int = 100) -> None:
        self.url = url
        self.http = httpx.AsyncClient(
            timeout=60,
            # Idle connections are dropped before the gateway's server drops them (Node: 5 s),
            # so a request is never sent on a connection the server is closing.
            limits=httpx.Limits(
                max_connections=connections,
                max_keepalive_connections=connections,
                keepalive_expiry=2.0,
            ),
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.http.post(self.url, **graphql_post(query, variables, token))
        return response.json()

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        answer = await self(query, variables, token)
        if answer.get("errors"):
            extensions = [e.get("extensions", {}) for e in answer["errors"]]
            codes = [x.get("code", "") for x in extensions]
            retryable = all(
                x.get("code") == "SERVICE_UNAVAILABLE"
                or x.get("reason") == "IDEMPOTENCY_IN_PROGRESS"
                for x in extensions
            )
            raise ShopError(f"{query[:80]}: {answer['errors']}", codes, retryable)
        return answer["data"]

    async def login(self, email: str, password: str = PASSWORD) -> str:
        data = await self.data(
            LOGIN,
            {"e": email, "p": password},
        )
        return data["login"]["token"]

    async def register(self, email: str, password: str = PASSWORD) -> None:
        await self.data(
            REGISTER,
            {"i": {"email": email, "name": "Bench Customer", "password": password}},
        )

    async def create_item(self, admin: str, stock: int, price: int = 1250) -> str:
        data = await self.data(
            "mutation($i: CreateItemInput!) { createItem(input: $i) { id } }",
            {
                "i": teapot_input(
                    stock,
                    price,
                    name="Bench teapot",
                    description="Cast iron, 1.2 litres, for the benchmark.",
                )
            },
            admin,
        )
        return data["createItem"]["id"]

    async def create_order(
        self, token: str, lines: list[tuple[str, int]], idempotency_key: str | None = None
    ) -> str:
        order: dict[str, Any] = {"lines": [{"itemId": item, "quantity": n} for item, n in lines]}
        if idempotency_key:
            order["idempotencyKey"] = idempotency_key
        data = await self.data(
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            {"i": order},
            token,
        )
        return data["createOrder"]["id"]

    async def pay(
        self, token: str, order_id: str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        key = idempotency_key or uuid.uuid4().hex
        data = await self.data(
            SUBMIT_PAYMENT,
            {"i": {"orderId": order_id, "idempotencyKey": key, "card": CARD_OK}},
            token,
        )
        return data["submitPayment"]

    async def order_status(self, token: str, order_id: str) -> str:
        data = await self.data(ORDER_STATUS, {"id": order_id}, token)
        return data["order"]["status"]


@dataclass
class Fixture:
    """What the measurements read: the catalog, and one customer's paid 20-line order."""

    admin_token: str
    catalog: list[str]  # item ids, 20 of them in the customer's order
    customer_token: str
    order_id: str
    payment_id: str


async def prepare(client: Client, shop: Shop, tag: str) -> Fixture:
    admin = await client.login(*shop.admin)
    catalog = list(await asyncio.gather(*(client.create_item(admin, 100_000) for _ in range(20))))
    email = f"bench.{tag}@bench.test"
    await client.register(email)
    token = await client.login(email)
    order_id = await client.create_order(token, [(item, 1) for item in catalog])
    payment = await client.pay(token, order_id)
    for _ in range(100):
        if await client.order_status(token, order_id) == "PAID":
            break
        await asyncio.sleep(0.1)
    return Fixture(admin, catalog, token, order_id, payment["id"])
