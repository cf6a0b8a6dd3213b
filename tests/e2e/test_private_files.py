"""Everything a stack keeps under its data folder is its owner's alone: databases (MariaDB's
files for payments and accounts, the MongoDB-protocol files, the CQL commit log), Kafka's log,
secrets and logs. Folders are 0700, files carry no right for the group or others (0600).

A light stack (the default of ``make up``: MariaDB, the cqlserver, SecantusDB, Kafka) goes
through a purchase so that every engine and service has written something, then its data
folder is walked. The real-engines stack of ``test_engine_outages`` is walked too, after its
engines were killed and restarted.
"""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from stack.engines import ACCESS_DENIED
from stack.local import LocalStack, Ports, read_secrets
from stack.process import StartError, free_port
from tests.e2e.client import Gateway, eventually
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.e2e.test_user_flow import CARD_OK, create_item, create_order, pay
from tests.support.documents import ORDER_STATUS

pytestmark = pytest.mark.e2e


def rights_too_wide(root: Path) -> list[str]:
    """Every folder that is not 0700 and every file the group or others may use. A socket's
    own mode does not count (MariaDB's is 0777 whatever the umask): connecting to it needs the
    right to search its folder, which must be 0700 like every other."""
    wrong = []
    for folder, dirs, files in os.walk(root):
        for name in [folder, *(os.path.join(folder, n) for n in [*dirs, *files])]:
            mode = os.lstat(name).st_mode
            if stat.S_ISLNK(mode) or stat.S_ISSOCK(mode):
                continue
            if (stat.S_ISDIR(mode) and stat.S_IMODE(mode) != 0o700) or mode & 0o077:
                wrong.append(f"{oct(stat.S_IMODE(mode))} {name}")
    return sorted(set(wrong))


@pytest.fixture(scope="module")
def light_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """``make up``'s default engines, with a MariaDB of its own: the stack whose files were
    world-readable."""
    stack = LocalStack(
        data_dir=tmp_path_factory.mktemp("light-shop") / "data",
        ports=Ports(**{port: free_port() for port in vars(Ports())}),
        engines="light",
        extra_env={
            "SHOP_ADMIN_EMAIL": ADMIN_EMAIL,
            "SHOP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SHOP_OUTBOX_POLL_SECONDS": "0.2",
        },
    )
    try:
        stack.start()
    except StartError as exc:
        pytest.fail(f"the light stack did not start: {exc}", pytrace=False)
    yield stack
    stack.stop(kill_engines=True)


async def test_a_light_stacks_data_folder_is_private_after_a_purchase(light_shop):
    gateway = Gateway(light_shop.graphql_url)
    admin = await gateway.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    item = await create_item(gateway, admin, stock=3)
    customer = await gateway.register(f"private.{uuid.uuid4().hex[:6]}@e2e.test")
    order = await create_order(gateway, customer, item["id"], 1)
    assert (await pay(gateway, customer, order["id"], CARD_OK))["data"]["submitPayment"][
        "status"
    ] == "SUCCEEDED"

    async def paid() -> bool:
        data = await gateway.data(ORDER_STATUS, {"id": order["id"]}, customer)
        return data["order"]["status"] == "PAID"

    await eventually(paid, timeout=30)

    data_dir = light_shop.data_dir
    for written in [
        "mariadb/shop_payments",
        "mariadb/shop_accounts",
        "secrets.env",
        "logs/gateway.log",
        "logs/payments.log",
        "kafka/log",
        "cql",
        "mongo",
    ]:
        assert (data_dir / written).exists(), f"{written} was not written; nothing to check"
    assert rights_too_wide(data_dir) == []


def test_a_light_stacks_mariadb_lets_no_one_in_without_its_password(light_shop):
    """Its files are private, and so is the server itself: on the loopback, which every user
    of the machine can reach, root needs the password generated into ``secrets.env``."""
    port = light_shop.ports.mysql
    with pytest.raises(pymysql.err.OperationalError) as refused:
        pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
    assert refused.value.args[0] == ACCESS_DENIED
    secrets = read_secrets(light_shop.data_dir / "secrets.env")
    conn = pymysql.connect(
        host="127.0.0.1", port=port, user="root", password=secrets["SHOP_MYSQL_PASSWORD"]
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM shop_payments.payments")
            assert cur.fetchone() == (1,)  # the purchase of the test above
    finally:
        conn.close()
