"""The embedded default: the same code on a SQLite file under the data directory."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopkit.sql import private_sqlite_file
from subgraphs.accounts.service.auth import REGISTERED
from tests.accounts.conftest import ADD, CARD, ME, PASSWORD, UPDATE, make_settings, running
from tests.support.answers import error_codes


async def test_the_default_sqlite_database_runs_the_whole_account_flow(tmp_path: Path) -> None:
    settings = make_settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/accounts.db"
    async with running(settings) as service:
        user = await service.register("Lite@Example.com")
        again = await service.gql(
            'mutation { register(input: {email: "lite@example.com", name: "x", '
            f'password: "{PASSWORD}"}}) {{ message }} }}'
        )
        assert again == {"data": {"register": {"message": REGISTERED}}}
        assert await service.sql("SELECT COUNT(*) FROM accounts") == [(1,)]
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
        assert error_codes(last) == ["RATE_LIMITED"]
    assert (tmp_path / "accounts.db").is_file()
    async with running(settings) as again:  # migrations are idempotent; data survives
        assert (await again.gql(ME, token=token))["data"]["me"]["id"] == user["id"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask under which SQLite on its own would create a world-readable (0644) file."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


async def test_the_sqlite_file_and_its_wal_and_shm_are_readable_by_the_owner_only(
    tmp_path: Path, permissive_umask: None
) -> None:
    database = tmp_path / "fresh" / "accounts.db"
    async with running(make_settings(data_dir=tmp_path / "fresh")) as service:
        await service.register()  # a write: the -wal and -shm files are in use
        files = [
            database,
            database.with_name("accounts.db-wal"),
            database.with_name("accounts.db-shm"),
        ]
        assert {f.name: f.exists() for f in files} == {f.name: True for f in files}
        assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}


async def test_an_existing_world_readable_sqlite_file_is_made_private_at_start_up(
    tmp_path: Path,
) -> None:
    database = tmp_path / "accounts.db"
    wal = tmp_path / "accounts.db-wal"
    for file in (database, wal):
        file.touch()
        file.chmod(0o644)
    async with running(make_settings(data_dir=tmp_path)) as service:
        await service.register()
        assert (oct(mode(database)), oct(mode(wal))) == ("0o600", "0o600")


def test_only_a_sqlite_file_url_gets_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    private_sqlite_file("sqlite+aiosqlite:///:memory:")
    private_sqlite_file("mysql+aiomysql://user:secret@localhost/accounts")
    assert list(tmp_path.iterdir()) == []
    private_sqlite_file("sqlite+aiosqlite:///data/accounts.db")
    assert oct(mode(tmp_path / "data" / "accounts.db")) == "0o600"
