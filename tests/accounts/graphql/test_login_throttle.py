"""Repeated failed logins for one email are slowed down, with the counts in the database: a
client that fails five times is locked out of that email, the owner from another client is
not, and failures from many clients delay further refusals."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from subgraphs.accounts.settings import AccountsSettings
from tests.accounts.conftest import LOGIN, PASSWORD, Service, running
from tests.support.answers import error_codes


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
        assert error_codes(await service.login(user["email"], "wrong password!")) == [
            "UNAUTHENTICATED"
        ]
    body = await service.login(user["email"], PASSWORD)
    assert body["data"] is None
    assert error_codes(body) == ["RATE_LIMITED"]
    assert 1 <= body["errors"][0]["extensions"]["retryAfterSeconds"] <= 60


async def test_unknown_emails_are_throttled_like_known_ones(service: Service) -> None:
    for _ in range(5):
        assert error_codes(await service.login("ghost@example.com", PASSWORD)) == [
            "UNAUTHENTICATED"
        ]
    assert error_codes(await service.login("GHOST@example.com", PASSWORD)) == ["RATE_LIMITED"]


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
    codes = sorted(c for b in bodies for c in error_codes(b))
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
            assert error_codes(await service.login(user["email"], "wrong password!")) == [
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
        assert error_codes(await first.login(user["email"])) == ["RATE_LIMITED"]
        assert error_codes(await second.login(user["email"])) == ["RATE_LIMITED"]


async def test_an_attacker_locking_an_email_out_does_not_lock_out_its_owner(
    service: Service,
) -> None:
    """Issue 10: five wrong passwords locked any account for everyone, the right password
    included. Now only the client that failed is refused."""
    user = await service.register()
    attacker, owner = "203.0.113.66", "198.51.100.7"
    for _ in range(5):
        body = await service.login(user["email"], "wrong password!", client=attacker)
        assert error_codes(body) == ["UNAUTHENTICATED"]
    assert error_codes(await service.login(user["email"], client=attacker)) == ["RATE_LIMITED"]
    for _ in range(3):  # the owner, from elsewhere, any number of times
        body = await service.login(user["email"], client=owner)
        assert body["data"]["login"]["account"]["id"] == user["id"], body
    assert error_codes(await service.login(user["email"], client=attacker)) == ["RATE_LIMITED"]


async def test_the_client_address_is_believed_only_beside_the_gateway_secret(
    settings: AccountsSettings,
) -> None:
    """Without the gateway secret a request is known by its socket peer, whatever address it
    claims: claiming a new one for each guess gets no fresh allowance."""
    direct = settings.model_copy(update={"require_gateway": False})
    async with running(direct) as service:
        user = await service.register()
        for n in range(5):
            response = await service.http.post(
                "/graphql",
                json={"query": LOGIN, "variables": {"email": user["email"], "password": "nope!"}},
                headers={"x-client-ip": f"203.0.113.{n + 1}"},
            )
            assert error_codes(response.json()) == ["UNAUTHENTICATED"]
        sixth = await service.http.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"email": user["email"], "password": PASSWORD}},
            headers={"x-client-ip": "203.0.113.99", "x-gateway-secret": "a guess"},
        )
        assert error_codes(sixth.json()) == ["RATE_LIMITED"]
        # Beside the real secret, the gateway's word for the address is taken.
        assert (await service.login(user["email"], client="203.0.113.99"))["data"]["login"]


async def test_failures_from_many_clients_delay_refusals_but_never_the_right_password(
    settings: AccountsSettings,
) -> None:
    delayed = settings.model_copy(
        update={"login_failure_delay_seconds": 1.0, "login_failure_delay_max_seconds": 2.0}
    )
    async with running(delayed) as service:
        user = await service.register()

        async def timed(password: str, client: str) -> tuple[float, list[str]]:
            started = time.perf_counter()
            body = await service.login(user["email"], password, client=client)
            return time.perf_counter() - started, error_codes(body)

        for n in range(5):  # a botnet: one guess per address, no delay yet
            assert (await timed("wrong password!", f"203.0.113.{n}"))[1] == ["UNAUTHENTICATED"]
        sixth, codes = await timed("wrong password!", "203.0.113.50")
        assert codes == ["UNAUTHENTICATED"], sixth
        assert sixth >= 1.0, sixth
        seventh, codes = await timed("wrong password!", "203.0.113.51")
        assert codes == ["UNAUTHENTICATED"], seventh
        assert seventh >= 2.0, seventh
        right, codes = await timed(PASSWORD, "198.51.100.7")
        assert codes == [], right
        assert right < 1.0, right


async def test_an_unknown_email_is_delayed_like_a_known_one(settings: AccountsSettings) -> None:
    delayed = settings.model_copy(update={"login_failure_delay_seconds": 0.5})
    async with running(delayed) as service:
        for n in range(5):
            await service.login("ghost@example.com", "wrong password!", client=f"203.0.113.{n}")
        started = time.perf_counter()
        body = await service.login("ghost@example.com", "wrong password!", client="203.0.113.9")
        assert error_codes(body) == ["UNAUTHENTICATED"]
        assert time.perf_counter() - started >= 0.5


async def test_logins_refused_as_busy_do_not_count_toward_the_lockout(service: Service) -> None:
    """A customer retrying a login through a rush, as SERVICE_UNAVAILABLE asks, is let in
    once the shop can check its password: attempts that checked no password are taken back."""
    user = await service.register()
    passwords = service.app.state.auth.passwords
    passwords._queue_seconds = 0.05
    held = 0
    while not passwords._slots.locked():  # every hashing slot taken, as in a burst
        await passwords._slots.acquire()
        held += 1
    try:
        for _ in range(8):
            assert error_codes(await service.login(user["email"])) == ["SERVICE_UNAVAILABLE"]
    finally:
        for _ in range(held):
            passwords._slots.release()
    assert (await service.login(user["email"]))["data"]["login"]["token"]
    # Refused passwords still count: five more wrong ones, and the sixth attempt is refused.
    for _ in range(5):
        await service.login(user["email"], "wrong password!")
    assert error_codes(await service.login(user["email"])) == ["RATE_LIMITED"]
