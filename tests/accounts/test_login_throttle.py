"""Repeated failed logins for one email are slowed down, with the count in the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from subgraphs.accounts.settings import AccountsSettings
from tests.accounts.conftest import PASSWORD, Service, errors_of, running


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_sixth_attempt_within_the_window_is_rate_limited_even_with_the_right_password(
    service: Service,
) -> None:
    user = await service.register()
    for _ in range(5):
        assert errors_of(await service.login(user["email"], "wrong password!")) == [
            "UNAUTHENTICATED"
        ]
    body = await service.login(user["email"], PASSWORD)
    assert body["data"] is None
    assert errors_of(body) == ["RATE_LIMITED"]
    assert 1 <= body["errors"][0]["extensions"]["retryAfterSeconds"] <= 60


async def test_unknown_emails_are_throttled_like_known_ones(service: Service) -> None:
    for _ in range(5):
        assert errors_of(await service.login("ghost@example.com", PASSWORD)) == ["UNAUTHENTICATED"]
    assert errors_of(await service.login("GHOST@example.com", PASSWORD)) == ["RATE_LIMITED"]


async def test_a_successful_login_resets_the_count(service: Service) -> None:
    user = await service.register()
    for _ in range(4):
        await service.login(user["email"], "wrong password!")
    assert (await service.login(user["email"]))["data"]["login"]["token"]
    for _ in range(4):
        await service.login(user["email"], "wrong password!")
    assert (await service.login(user["email"]))["data"]["login"]["token"]


async def test_racing_wrong_logins_get_at_most_five_password_checks(service: Service) -> None:
    user = await service.register()
    bodies = await asyncio.gather(
        *(service.login(user["email"], f"wrong password {i}") for i in range(12))
    )
    codes = sorted(c for b in bodies for c in errors_of(b))
    assert codes == ["RATE_LIMITED"] * 7 + ["UNAUTHENTICATED"] * 5


async def test_the_lockout_grows_after_each_lockout_and_ends(settings: AccountsSettings) -> None:
    clock = Clock()
    async with running(settings, clock=clock) as service:
        user = await service.register()
        for _ in range(5):
            await service.login(user["email"], "wrong password!")
        first = await service.login(user["email"], "wrong password!")
        assert first["errors"][0]["extensions"]["retryAfterSeconds"] == 60

        clock.now += timedelta(seconds=61)
        for _ in range(5):
            assert errors_of(await service.login(user["email"], "wrong password!")) == [
                "UNAUTHENTICATED"
            ]
        second = await service.login(user["email"], "wrong password!")
        assert second["errors"][0]["extensions"]["retryAfterSeconds"] == 120

        clock.now += timedelta(seconds=121)
        assert (await service.login(user["email"]))["data"]["login"]["token"]


async def test_the_count_is_shared_by_two_processes_on_one_database(
    settings: AccountsSettings,
) -> None:
    async with running(settings) as first, running(settings) as second:
        user = await first.register()
        for attempt in range(5):
            node = first if attempt % 2 else second
            await node.login(user["email"], "wrong password!")
        assert errors_of(await first.login(user["email"])) == ["RATE_LIMITED"]
        assert errors_of(await second.login(user["email"])) == ["RATE_LIMITED"]
