"""The embedded default: the same code on a SQLite file, CHECK constraints included."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from subgraphs.payments.settings import PaymentsSettings
from tests.payments.conftest import customer, payments_settings, running
from tests.support.answers import error_code


def test_default_database_is_a_sqlite_file_under_the_data_dir(tmp_path: Path) -> None:
    settings = PaymentsSettings(data_dir=tmp_path)

    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'payments.db'}"
    assert settings.idempotency_ttl_hours == 24
    assert settings.processor == "simulated"


async def test_pay_replay_and_refund_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'payments.db'}"
    async with running(payments_settings(url, tmp_path)) as harness:
        buyer = customer()
        order_id = harness.services.add_order(buyer, amount=800)
        first = await harness.submit(buyer, order_id, "k")
        again = await harness.submit(buyer, order_id, "k")
        payment_id = first["data"]["submitPayment"]["id"]
        partial = await harness.refund("admin", payment_id, "r1", 500)
        too_much = await harness.refund("admin", payment_id, "r2", 301)

        assert first == again
        assert partial["data"]["refundPayment"]["status"] == "PARTIALLY_REFUNDED"
        assert error_code(too_much) == "BAD_USER_INPUT"
        assert harness.processor.charge_calls == 1
        assert harness.processor.refund_calls == 1
        async with harness.app.state.engine.begin() as conn:
            try:
                await conn.execute(sa.text("UPDATE payments SET refunded = captured + 1"))
                checked = False
            except IntegrityError:
                checked = True
        assert checked
    assert (tmp_path / "payments.db").exists()


async def test_the_default_sqlite_file_is_readable_by_the_owner_only(tmp_path: Path) -> None:
    """It holds the processor tokens of saved cards: private, as accounts' file is, whatever
    the umask (shopkit.sql.create_engine makes every SQLite file so)."""
    previous = os.umask(0o022)
    try:
        settings = payments_settings("", tmp_path)
        async with running(settings):
            database = tmp_path / "payments.db"
            assert settings.database_url == f"sqlite+aiosqlite:///{database}"
            assert oct(stat.S_IMODE(database.stat().st_mode)) == "0o600"
    finally:
        os.umask(previous)
