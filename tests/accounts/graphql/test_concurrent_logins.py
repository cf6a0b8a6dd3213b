"""Logins racing for different emails never deadlock each other in the throttle table."""

from __future__ import annotations

import asyncio
import uuid

from tests.accounts.conftest import PASSWORD, Service
from tests.support.answers import error_codes


async def test_twenty_concurrent_logins_for_twenty_new_accounts_all_succeed(
    service: Service,
) -> None:
    users = [await service.register() for _ in range(20)]
    bodies = await asyncio.gather(*(service.login(user["email"], PASSWORD) for user in users))
    assert [b.get("errors") for b in bodies] == [None] * 20
    assert [b["data"]["login"]["account"]["id"] for b in bodies] == [u["id"] for u in users]
    assert await service.sql("SELECT COUNT(*) FROM login_throttle") == [(0,)]


async def test_twenty_concurrent_failed_logins_for_unknown_emails_are_each_refused_cleanly(
    service: Service,
) -> None:
    emails = [f"nobody-{n}-{uuid.uuid4().hex[:8]}@example.com" for n in range(20)]
    bodies = await asyncio.gather(*(service.login(email, PASSWORD) for email in emails))
    assert [error_codes(b) for b in bodies] == [["UNAUTHENTICATED"]] * 20
    counted = await service.sql("SELECT email_normalized, attempts FROM login_throttle")
    assert sorted(counted) == sorted((email, 1) for email in emails)
