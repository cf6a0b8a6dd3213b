"""The accounts as every account use case (``auth``, ``profile``, ``payment_methods``) works
with them: one ``Accounts`` holding what they share (the store, the login throttle, the event
source, the notifier, the clock), the caller's stored account, the validated event for a
change and the counting of password attempts; and address parsing.

Authorization uses the caller's *stored* account (not only the token's claims): a token whose
account was deleted is refused, and a demoted admin loses admin rights at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopkit.auth import Identity
from shopkit.errors import RateLimited, Unauthenticated
from shopkit.events import CloudEvent, new_event
from shopkit.events.schemas import EventSchemas
from subgraphs.accounts.domain import rules
from subgraphs.accounts.domain.model import Account, Address
from subgraphs.accounts.store.accounts import AccountStore
from subgraphs.accounts.store.throttle import LoginThrottle

log = logging.getLogger(__name__)

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "events" / "schemas"
UPDATE_ATTEMPTS = 3  # optimistic-concurrency retries of a read-modify-save

RawAddress = Mapping[str, str | None]


def parse_address(raw: RawAddress | None, field: str) -> Address | None:
    if raw is None:
        return None
    return rules.address(
        line1=raw.get("line1") or "",
        line2=raw.get("line2"),
        city=raw.get("city") or "",
        region=raw.get("region"),
        postal_code=raw.get("postal_code"),
        country=raw.get("country") or "",
        field=field,
    )


class Accounts:
    """What every account use case works with; built once per app and shared."""

    def __init__(
        self,
        store: AccountStore,
        throttle: LoginThrottle,
        *,
        source: str = "accounts",
        notify: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.throttle = throttle
        self.source = source
        self.notify = notify
        self.clock = clock
        self.schemas = EventSchemas(SCHEMAS_DIR)

    def event(self, event: tuple[str, dict[str, Any]], account_id: str) -> CloudEvent:
        """The CloudEvent of a domain event, checked against its JSON Schema."""
        event_type, data = event
        cloud_event = new_event(event_type, source=self.source, subject=account_id, data=data)
        self.schemas.validate(cloud_event)
        return cloud_event

    async def caller(self, identity: Identity) -> Account:
        """The caller's own account; ``Unauthenticated`` without one or if it is gone."""
        if identity.account_id is None:
            raise Unauthenticated("You must be logged in.")
        account = await self.store.get(identity.account_id)
        if account is None:
            raise Unauthenticated("The account of this access token no longer exists.")
        return account

    async def count_attempt(self, email: str, client: str) -> None:
        """Counts a password attempt for ``email`` from ``client``; ``RateLimited`` while that
        pair is locked out."""
        locked_until = await self.throttle.attempt(email, client, self.clock())
        if locked_until is not None:
            retry_after = max(1, int((locked_until - self.clock()).total_seconds() + 0.999))
            log.warning("login throttled", extra={"retry_after_seconds": retry_after})
            raise RateLimited(
                "Too many failed attempts; try again later.", retryAfterSeconds=retry_after
            )

    async def failed(self, email: str) -> None:
        """Counts a refused password for ``email`` (from any client) and waits the delay
        that many recent failures call for before the refusal is answered."""
        delay = await self.throttle.failed(email, self.clock())
        if delay > 0:
            log.info("refused login delayed", extra={"delay_seconds": delay})
            await asyncio.sleep(delay)
