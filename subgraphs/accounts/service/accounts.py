"""The accounts as every account use case (``auth``, ``profile``, ``payment_methods``) works
with them: one ``Accounts`` holding what they share (the store, the login throttle, the
notifier, the clock), the caller's stored account, the validated event for a
change and the counting of password attempts. (Addresses: the kit's one rule,
``shopkit.addresses``.)

Authorization uses the caller's *stored* account (not only the token's claims): a token whose
account was deleted is refused, and a demoted admin loses admin rights at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from shopkit.auth import Identity
from shopkit.errors import RateLimited, Unauthenticated
from shopkit.events import CloudEvent, DomainEvent, cloud_event
from subgraphs.accounts.domain.events import PRODUCER
from subgraphs.accounts.domain.model import Account
from subgraphs.accounts.store.accounts import AccountStore
from subgraphs.accounts.store.throttle import LoginThrottle

log = logging.getLogger(__name__)

UPDATE_ATTEMPTS = 3  # optimistic-concurrency retries of a read-modify-save


class Accounts:
    """What every account use case works with; built once per app and shared."""

    def __init__(
        self,
        store: AccountStore,
        throttle: LoginThrottle,
        *,
        notify: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.throttle = throttle
        self.notify = notify
        self.clock = clock

    def event(self, event: DomainEvent) -> CloudEvent:
        """The CloudEvent of a domain event, checked against its JSON Schema."""
        return cloud_event(event, producer=PRODUCER)

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
