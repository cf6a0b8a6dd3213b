"""Fixtures for the payments tests: the app in-process on a real database, with the orders
and accounts services answered by respx, and the simulated processor (counting its calls)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import sqlalchemy as sa

from shopkit.events import CloudEvent, new_event
from shopkit.processor import ProcessorError, SimulatedProcessor
from subgraphs.payments.app import create_app
from subgraphs.payments.events.handlers import handlers
from subgraphs.payments.settings import PaymentsSettings
from tests.support.tokens import make_token, test_verifier

ORDERS_URL = "http://orders.test/graphql"
ACCOUNTS_URL = "http://accounts.test/graphql"
GOOD_CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2040, "cvc": "123"}
DECLINED_CARD = {**GOOD_CARD, "number": "4000000000000002"}
NO_FUNDS_CARD = {**GOOD_CARD, "number": "4000000000009995"}

PAYMENT_FIELDS = """
  id status amount { amount currency } method { brand last4 } failureCode failureReason
  refunded { amount } refundable { amount } refunds { edges { node { id amount { amount } } } }
  order { id } createdAt updatedAt
"""
SUBMIT = f"""mutation($input: SubmitPaymentInput!) {{
  submitPayment(input: $input) {{ {PAYMENT_FIELDS} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdatePaymentInput!) {{
  updatePayment(id: $id, input: $input) {{ {PAYMENT_FIELDS} }} }}"""
REFUND = f"""mutation($id: ID!, $input: RefundPaymentInput!) {{
  refundPayment(id: $id, input: $input) {{ {PAYMENT_FIELDS} }} }}"""


class CountingProcessor(SimulatedProcessor):
    """The simulated processor, optionally slow, optionally failing the next N charges with
    an unknown outcome *after* it charged (a lost answer) or *before* (a lost request)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.lose_answers = 0
        self.lose_requests = 0
        self.charge_keys: list[str] = []
        self.during_charge: Callable[[], Any] | None = None

    async def charge(self, **kwargs: Any) -> Any:
        self.charge_keys.append(kwargs["idempotency_key"])
        if self.during_charge is not None:
            self.during_charge()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.lose_requests:
            self.lose_requests -= 1
            raise ProcessorError("the charge never reached the processor")
        result = await super().charge(**kwargs)
        if self.lose_answers:
            self.lose_answers -= 1
            raise ProcessorError("connection reset after the charge was sent")
        return result

    async def refund(self, **kwargs: Any) -> Any:
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super().refund(**kwargs)


@dataclass
class FakeServices:
    """What the orders and accounts services answer (through respx)."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    saved_cards: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    order_calls: int = 0
    orders_down: bool = False  # orders answers 503 to every call

    def add_order(
        self, customer: str, *, status: str = "PENDING_PAYMENT", amount: int = 2599
    ) -> str:
        order_id = str(uuid.uuid4())  # as the orders service names them
        self.orders[order_id] = {
            "id": order_id,
            "status": status,
            "customer": {"id": customer},
            "total": {"amount": amount, "currency": "EUR"},
        }
        return order_id

    def set_status(self, order_id: str, status: str) -> None:
        self.orders[order_id]["status"] = status

    def answer_orders(self, request: httpx.Request) -> httpx.Response:
        self.order_calls += 1
        assert request.headers.get("x-service-token"), "payments must call orders as a service"
        if self.orders_down:
            return httpx.Response(503, json={"errors": [{"message": "unavailable"}]})
        variables = json.loads(request.content)["variables"]
        order = self.orders.get(variables["id"])
        return httpx.Response(200, json={"data": {"order": order}})

    def answer_accounts(self, request: httpx.Request) -> httpx.Response:
        variables = json.loads(request.content)["variables"]
        source = self.saved_cards.get((variables["accountId"], variables["paymentMethodId"]))
        return httpx.Response(200, json={"data": {"paymentMethodSource": source}})


@dataclass
class Harness:
    app: Any
    client: httpx.AsyncClient
    processor: CountingProcessor
    services: FakeServices
    settings: PaymentsSettings
    http_mock: respx.MockRouter

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None,
        role: str = "CUSTOMER",
    ) -> dict[str, Any]:  # fmt: skip
        headers = {"x-gateway-secret": self.settings.gateway_secret}
        if as_ is not None:
            headers["authorization"] = f"Bearer {make_token(as_, role=role)}"
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return response.json()

    async def submit(self, customer: str, order_id: str, key: str, **extra: Any) -> Any:
        payload = {"orderId": order_id, "idempotencyKey": key, **extra}
        if "card" not in extra and "paymentMethodId" not in extra:
            payload["card"] = GOOD_CARD
        return await self.gql(SUBMIT, {"input": payload}, as_=customer)

    async def refund(self, caller: str, payment_id: str, key: str, amount: int | None = None,
                     role: str = "ADMIN") -> Any:  # fmt: skip
        payload: dict[str, Any] = {"idempotencyKey": key}
        if amount is not None:
            payload["amount"] = amount
        return await self.gql(REFUND, {"id": payment_id, "input": payload}, as_=caller, role=role)

    def new_order(self, amount: int = 2599) -> tuple[str, str]:
        """A new customer and an order of theirs awaiting payment: ``(buyer, order_id)``."""
        buyer = customer()
        return buyer, self.services.add_order(buyer, amount=amount)

    def handler(self, event_type: str) -> Callable[[CloudEvent], Awaitable[None]]:
        """The app's own consumer handler of ``event_type``, to deliver events to it directly."""
        return handlers(self.app.state.payments)[event_type]

    async def count(self, table: str) -> int:
        engine = self.app.state.engine
        async with engine.connect() as conn:
            return int((await conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}"))).scalar())

    async def rows(self, query: str) -> list[Any]:
        async with self.app.state.engine.connect() as conn:
            return list((await conn.execute(sa.text(query))).all())


def payments_settings(database_url: str, tmp_path: Path, **overrides: Any) -> PaymentsSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "env": "test",
        "data_dir": tmp_path,
        "events_enabled": False,
        "service_secret": "test-service-secret-of-at-least-32-bytes",
        "orders_url": ORDERS_URL,
        "accounts_url": ACCOUNTS_URL,
        **overrides,
    }
    return PaymentsSettings(**values)


@contextlib.asynccontextmanager
async def running(
    settings: PaymentsSettings,
    processor: CountingProcessor | None = None,
    *,
    configured_processor: bool = False,
) -> AsyncIterator[Harness]:
    """``configured_processor``: use the processor the settings select, not a counting one."""
    processor = processor or CountingProcessor()
    services = FakeServices()
    app = create_app(
        settings, verifier=test_verifier, processor=None if configured_processor else processor
    )
    with respx.mock(assert_all_called=False) as mock:
        mock.post(ORDERS_URL).mock(side_effect=services.answer_orders)
        mock.post(ACCOUNTS_URL).mock(side_effect=services.answer_accounts)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://payments") as c:
                yield Harness(app, c, processor, services, settings, mock)


@contextlib.asynccontextmanager
async def running_on(
    engine: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    processor: CountingProcessor | None = None,
) -> AsyncIterator[Harness]:
    """Payments on ``engine``: "sqlite" (the embedded default, a file in ``tmp_path``) or
    "mariadb" (the session's server), for the tests parametrized over both."""
    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'payments.db'}"
    else:
        url = request.getfixturevalue("mysql_url")
    async with running(payments_settings(url, tmp_path), processor) as harness:
        yield harness


@pytest.fixture
async def harness(mysql_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    async with running(payments_settings(mysql_url, tmp_path)) as h:
        yield h


@pytest.fixture
async def slow_harness(mysql_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    async with running(payments_settings(mysql_url, tmp_path), CountingProcessor(0.3)) as h:
        yield h


def customer() -> str:
    return str(uuid.uuid4())


def order_cancelled(order_id: str, buyer: str, previous_status: str) -> CloudEvent:
    """The ``order.cancelled`` event orders emits for ``order_id``."""
    return new_event(
        "order.cancelled",
        source="orders",
        subject=order_id,
        data={"orderId": order_id, "customerId": buyer, "previousStatus": previous_status},
    )
