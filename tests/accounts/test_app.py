"""The admin ensured at start-up from SHOP_ADMIN_EMAIL and SHOP_ADMIN_PASSWORD."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from shopkit.errors import InvalidInput
from subgraphs.accounts.settings import AccountsSettings
from tests.accounts.conftest import PASSWORD, running
from tests.support.answers import error_codes

ADMIN_PASSWORD = "admin passphrase 2024"


def with_admin(settings: AccountsSettings, email: str, password: str) -> AccountsSettings:
    return settings.model_copy(update={"admin_email": email, "admin_password": SecretStr(password)})


async def test_the_settings_read_the_shop_admin_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_ADMIN_EMAIL", "root@example.com")
    monkeypatch.setenv("SHOP_ADMIN_PASSWORD", ADMIN_PASSWORD)
    settings = AccountsSettings()
    assert settings.admin_email == "root@example.com"
    assert settings.admin_password is not None
    assert settings.admin_password.get_secret_value() == ADMIN_PASSWORD


async def test_start_up_creates_the_admin_who_can_read_any_account(
    settings: AccountsSettings,
) -> None:
    async with running(with_admin(settings, "root@example.com", ADMIN_PASSWORD)) as service:
        customer = await service.register()
        login = (await service.login("root@example.com", ADMIN_PASSWORD))["data"]["login"]
        assert login["account"]["role"] == "ADMIN"
        body = await service.gql(
            "query($id: ID!) { account(id: $id) { email } }",
            {"id": customer["id"]},
            token=login["token"],
        )
        assert body["data"]["account"]["email"] == customer["email"]


async def test_an_existing_account_is_promoted_and_gets_the_configured_password(
    settings: AccountsSettings,
) -> None:
    async with running(settings) as service:
        user = await service.register("boss@example.com")
    async with running(with_admin(settings, "BOSS@example.com", ADMIN_PASSWORD)) as service:
        login = (await service.login("boss@example.com", ADMIN_PASSWORD))["data"]["login"]
        assert login["account"] == {"id": user["id"], "email": "boss@example.com", "role": "ADMIN"}
        assert error_codes(await service.login("boss@example.com", PASSWORD)) == ["UNAUTHENTICATED"]
        assert await service.sql("SELECT COUNT(*) FROM accounts") == [(1,)]


async def test_restarting_with_the_same_admin_changes_nothing(settings: AccountsSettings) -> None:
    admin_settings = with_admin(settings, "root@example.com", ADMIN_PASSWORD)
    async with running(admin_settings) as service:
        first = await service.sql("SELECT id, updated_at, password_hash FROM accounts")
    async with running(admin_settings) as service:
        assert await service.sql("SELECT id, updated_at, password_hash FROM accounts") == first
        assert await service.sql("SELECT COUNT(*) FROM outbox") == [(1,)]


async def test_a_weak_admin_password_refuses_to_start(settings: AccountsSettings) -> None:
    with pytest.raises(InvalidInput, match="password"):
        async with running(with_admin(settings, "root@example.com", "password")):
            pass
