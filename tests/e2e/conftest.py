"""The whole shop, started for real: Apache Kafka, Apache Cassandra, SecantusDB (MongoDB
protocol) and MariaDB, the four subgraphs as uvicorn processes, and Hive Gateway, on free
ports (``stack.local.LocalStack`` with ``engines="real"``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from stack.local import LocalStack, Ports
from stack.process import StartError, free_port
from tests.e2e.client import Gateway
from tests.support.otlp import OtlpReceiver

pytestmark = pytest.mark.e2e


ADMIN_EMAIL = "admin@e2e.test"
ADMIN_PASSWORD = "e2e-admin-password-42"
# Settings of shop that differ from the defaults (test_live_order_status_limits.py).
# Not the default (900), so that a token's lifetime shows the setting is honoured; no test
# waits it out (the expiry test signs a token of its own that expires in seconds).
TOKEN_TTL = 600
PER_ACCOUNT = 50  # live subscriptions per account


@pytest.fixture(scope="session")
def receiver() -> Iterator[OtlpReceiver]:
    """An OTLP/HTTP receiver in this process, to which ``shop`` exports its spans."""
    receiver = OtlpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def shop(
    tmp_path_factory: pytest.TempPathFactory, mysql_server: str, receiver: OtlpReceiver
) -> Iterator[LocalStack]:
    """The one whole stack of the e2e tests, with the settings some of them check: traced to
    ``receiver`` (test_tracing.py), tokens that live TOKEN_TTL seconds and PER_ACCOUNT live
    subscriptions per account (test_live_order_status_limits.py). One stack for all: starting
    one takes half a minute or more of this machine. No test depends on another's setting (a
    trace is found by its own id; the limits' tests make their own customers)."""
    stack = LocalStack(
        data_dir=tmp_path_factory.mktemp("shop"),
        ports=Ports(**{port: free_port() for port in vars(Ports())}),
        engines="real",
        mysql_server=mysql_server,
        mysql_suffix=f"_e2e_{uuid.uuid4().hex[:6]}",
        extra_env={
            "SHOP_ADMIN_EMAIL": ADMIN_EMAIL,
            "SHOP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SHOP_OUTBOX_POLL_SECONDS": "0.2",
            "SHOP_AUTH_RATE_LIMIT": "1000",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "200",  # export within a fraction of a second, not 5 s
            "ACCOUNTS_TOKEN_TTL_SECONDS": str(TOKEN_TTL),
            "ORDERS_SUBSCRIPTIONS_MAX_PER_ACCOUNT": str(PER_ACCOUNT),
        },
        processor_test_hooks=True,
    )
    try:
        stack.start()
    except StartError as exc:
        pytest.fail(f"the local stack did not start: {exc}", pytrace=False)
    yield stack
    stack.stop(kill_engines=True)  # its data folder is the session's temporary one


@pytest.fixture(scope="session")
def gateway(shop: LocalStack) -> Gateway:
    return Gateway(shop.graphql_url)


@pytest.fixture(scope="session")
def disrupted_shop(shop: LocalStack) -> LocalStack:
    """``shop``, for the modules that kill its processes or stop its engines and start them
    again (test_resilience.py, test_engine_outages.py, test_processor_crash.py, which runs
    payments with settings of its own meanwhile): their tests run after every other test
    (``pytest_collection_modifyitems``), so they disturb none, and ``shop`` serves them
    instead of a stack each (starting one takes a minute or more of this machine). Their
    books check then covers everything the suite did on ``shop``."""
    return shop


DISRUPTED = "disrupted_shop"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests on disrupted_shop run last (in their order), after every other test."""
    disrupting = [item for item in items if DISRUPTED in getattr(item, "fixturenames", ())]
    last = {id(item) for item in disrupting}
    items[:] = [*(item for item in items if id(item) not in last), *disrupting]
