"""The embedded default: the same code on a SQLite file under the data directory."""

from __future__ import annotations

from pathlib import Path

from tests.accounts.conftest import ME, PASSWORD, errors_of, make_settings, running
from tests.accounts.test_payment_methods import ADD, CARD
from tests.accounts.test_update_account import UPDATE


async def test_the_default_sqlite_database_runs_the_whole_account_flow(tmp_path: Path) -> None:
    settings = make_settings(data_dir=tmp_path)
    assert settings.database == f"sqlite+aiosqlite:///{tmp_path}/accounts.db"
    async with running(settings) as service:
        user = await service.register("Lite@Example.com")
        assert errors_of(
            await service.gql(
                'mutation { register(input: {email: "lite@example.com", name: "x", '
                f'password: "{PASSWORD}"}}) {{ token }} }}'
            )
        ) == ["CONFLICT"]
        token = (await service.login("lite@example.com"))["data"]["login"]["token"]
        await service.gql(UPDATE, {"input": {"name": "'; DROP TABLE accounts; --"}}, token=token)
        await service.gql(ADD, {"input": CARD}, token=token)
        me = (await service.gql(ME, token=token))["data"]["me"]
        assert me["id"] == user["id"]
        assert me["name"] == "'; DROP TABLE accounts; --"
        assert [(m["brand"], m["last4"]) for m in me["paymentMethods"]] == [("visa", "4242")]
        assert "4242424242424242" not in await service.dump()
        for _ in range(6):
            last = await service.login("lite@example.com", "wrong password!")
        assert errors_of(last) == ["RATE_LIMITED"]
    assert (tmp_path / "accounts.db").is_file()
    async with running(settings) as again:  # migrations are idempotent; data survives
        assert (await again.gql(ME, token=token))["data"]["me"]["id"] == user["id"]
