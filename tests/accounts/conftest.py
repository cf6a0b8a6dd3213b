"""Fixtures for the accounts tests: the real app (lifespan running) on a fresh MariaDB
database per test, driven in-process over httpx."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, text
from starlette.applications import Starlette

from subgraphs.accounts.app import create_app
from subgraphs.accounts.service.auth import REGISTERED
from subgraphs.accounts.settings import AccountsSettings
from tests.support.callers import caller_headers

PASSWORD = "correct horse battery"
REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { message }
}"""
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { token expiresAt account { id email role } }
}"""
ACCOUNT_FIELDS = """
  id email name role createdAt updatedAt
  shippingAddress { line1 line2 city region postalCode country }
  billingAddress { line1 line2 city region postalCode country }
  paymentMethods { id brand last4 expMonth expYear }
"""
ME = f"{{ me {{ {ACCOUNT_FIELDS} }} }}"
UPDATE = f"""
mutation($input: UpdateAccountInput!) {{ updateAccount(input: $input) {{ {ACCOUNT_FIELDS} }} }}"""
ADD = """
mutation($input: AddPaymentMethodInput!) {
  addPaymentMethod(input: $input) { id brand last4 expMonth expYear } }"""
CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2040, "cvc": "123"}


@dataclass
class Service:
    app: Starlette
    http: httpx.AsyncClient
    settings: AccountsSettings

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        service: str | None = None,
        client: str | None = None,
    ) -> httpx.Response:
        """As the gateway sends it; ``client``: the address it says the client has."""
        headers = {
            "x-gateway-secret": self.settings.gateway_secret,
            **caller_headers(self.settings.service_secret, token=token, service=service),
        }
        if client:
            headers["x-client-ip"] = client
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def gql(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        return (await self.post(query, variables, **kw)).json()

    async def register(self, email: str | None = None, **fields: Any) -> dict[str, Any]:
        """Registers, logs in (from a client address of its own, so that the login throttle
        of the tests' client is untouched) and returns ``{"token", "id", "email"}``."""
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
        body = await self.gql(
            REGISTER,
            {"input": {"email": email, "name": "Ada Lovelace", "password": PASSWORD, **fields}},
        )
        assert body == {"data": {"register": {"message": REGISTERED}}}, body
        login = await self.login(email, client="192.0.2.1")
        assert "errors" not in login, login
        payload = login["data"]["login"]
        return {"token": payload["token"], "id": payload["account"]["id"], "email": email}

    async def login(self, email: str, password: str = PASSWORD, client: str | None = None) -> Any:
        return await self.gql(LOGIN, {"email": email, "password": password}, client=client)

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.app.state.engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return list(result) if result.returns_rows else []

    async def dump(self) -> str:
        """Every row of every table, as text."""
        async with self.app.state.engine.connect() as connection:
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
            lines = []
            for table in tables:
                for row in await connection.execute(text(f"SELECT * FROM {table}")):
                    lines.append(f"{table}: {tuple(row)!r}")
        return "\n".join(lines)


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory for the tests that do not test key files: one dev key to generate."""
    return tmp_path_factory.mktemp("accounts-data")


@pytest.fixture
def settings(mysql_url: str, key_dir: Path) -> AccountsSettings:
    return make_settings(database_url=mysql_url, data_dir=key_dir)


def make_settings(**overrides: Any) -> AccountsSettings:
    values: dict[str, Any] = {
        "env": "test",
        "events_enabled": False,
        "log_level": "WARNING",
        "admin_email": None,
        "admin_password": None,
        # 32+ bytes: pyjwt warns (an error here) about the kit's shorter development secret.
        "service_secret": "accounts-tests-service-secret-0123456789",
        # The delay before answering refused logins is tested on its own (test_login_throttle).
        "login_failure_delay_seconds": 0.0,
    }
    values.update(overrides)
    return AccountsSettings(**values)


@contextlib.asynccontextmanager
async def running(settings: AccountsSettings, **app_kwargs: Any) -> AsyncIterator[Service]:
    """The app with its lifespan running. The logging set-up it installs is undone after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    app = create_app(settings, **app_kwargs)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://accounts") as http:
                yield Service(app=app, http=http, settings=settings)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
async def service(settings: AccountsSettings) -> AsyncIterator[Service]:
    async with running(settings) as started:
        yield started
