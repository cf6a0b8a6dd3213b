"""The login throttle, kept in the database so every process sees the same counts.

Two counts, because locking an email out for everyone let anyone lock a victim out at will:

* Per email *and client* (``login_throttle``): each attempt is counted *before* the password
  is checked, in one transaction that takes the row's write lock, so racing attempts cannot all
  slip under the limit. Once more than ``max_attempts`` arrive within ``window``, that client
  is locked out of that email for ``lockout * 2**n`` (capped), n being the pair's earlier
  lockouts; a successful login from the client clears its row. The owner logging in from
  another client is not affected.
* Per email, from all clients (``login_failures``): refused passwords within ``window``. It
  never refuses anything; past ``max_attempts`` failures each further refusal is answered after
  ``failure_delay * 2**k`` seconds (capped at ``max_failure_delay``), which slows an attacker
  spreading guesses over many addresses. A right password is never delayed.

The client is the address the gateway saw (``x-client-ip``, trusted only beside the gateway
secret; see ``graphql/context.py``).

On MySQL the transactions run at READ COMMITTED (see ``shopkit.sql``): an UPDATE or DELETE
that finds no row then takes no gap lock, so attempts for *different* emails never block or
deadlock each other. A deadlock or lock-wait timeout that still happens (the server rolled the
transaction back) and a lost race to insert the row re-run the whole transaction, a few times.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, delete, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shopkit.errors import Unavailable
from shopkit.sql import is_retryable
from subgraphs.accounts.store.tables import LoginFailuresRow, LoginThrottleRow

log = logging.getLogger(__name__)
T = TypeVar("T")
TRIES = 5
CLIENT_MAX = 64  # the column's length: an IPv6 address is at most 45 characters


@dataclass(eq=False)
class LoginThrottle:
    sessions: async_sessionmaker[AsyncSession]
    _: KW_ONLY
    max_attempts: int
    window: timedelta
    lockout: timedelta
    max_lockout: timedelta
    failure_delay: float = 0.25
    max_failure_delay: float = 5.0

    async def attempt(self, email: str, client: str, now: datetime) -> datetime | None:
        """Counts one attempt. Returns when the lock ends if the attempt is refused."""
        key = email.lower()
        return await _retrying(lambda: self._attempt(key, client[:CLIENT_MAX], now))

    async def _attempt(self, key: str, client: str, now: datetime) -> datetime | None:
        row_is = and_(
            col(LoginThrottleRow.email_normalized) == key, col(LoginThrottleRow.client) == client
        )
        first = LoginThrottleRow(
            email_normalized=key,
            client=client,
            attempts=1,
            window_started_at=now,
            locked_until=None,
            lockouts=0,
        )
        async with self.sessions() as session:
            if not await _count_one(session, col(LoginThrottleRow.attempts), row_is, first):
                return None
            row = (await session.exec(select(LoginThrottleRow).where(row_is))).one()
            locked_until = row.locked_until
            if locked_until is not None and locked_until > now:
                await session.rollback()  # attempts while locked are not counted
                return locked_until
            if now - row.window_started_at > self.window:
                row.attempts, row.window_started_at = 1, now
            if row.attempts > self.max_attempts:
                seconds = self.lockout.total_seconds() * 2 ** min(row.lockouts, 30)
                row.locked_until = now + min(timedelta(seconds=seconds), self.max_lockout)
                row.lockouts += 1
                row.attempts, row.window_started_at = 0, now
                locked_until = row.locked_until
                session.add(row)
                await session.commit()
                return locked_until
            session.add(row)
            await session.commit()
            return None

    async def succeeded(self, email: str, client: str) -> None:
        key = email.lower()
        await _retrying(lambda: self._clear(key, client[:CLIENT_MAX]))

    async def _clear(self, key: str, client: str) -> None:
        async with self.sessions() as session:
            await session.exec(
                delete(LoginThrottleRow).where(
                    col(LoginThrottleRow.email_normalized) == key,
                    col(LoginThrottleRow.client) == client,
                )
            )
            await session.commit()

    async def not_checked(self, email: str, client: str) -> None:
        """Takes back an attempt counted for ``email`` from ``client`` whose password was never
        checked because the shop was too busy to hash it (SERVICE_UNAVAILABLE): a customer
        retrying through a rush, as that answer asks, must not lock itself out, and an
        attempt that checked no password gave no one a guess."""
        key = email.lower()
        await _retrying(lambda: self._uncount(key, client[:CLIENT_MAX]))

    async def _uncount(self, key: str, client: str) -> None:
        async with self.sessions() as session:
            await session.exec(
                update(LoginThrottleRow)
                .where(
                    col(LoginThrottleRow.email_normalized) == key,
                    col(LoginThrottleRow.client) == client,
                    col(LoginThrottleRow.attempts) > 0,
                )
                .values(attempts=col(LoginThrottleRow.attempts) - 1)
            )
            await session.commit()

    async def failed(self, email: str, now: datetime) -> float:
        """Counts a refused password for the email; returns the seconds to wait before
        answering it."""
        key = email.lower()
        failures = await _retrying(lambda: self._fail(key, now))
        beyond = failures - self.max_attempts
        if beyond <= 0:
            return 0.0
        return min(self.failure_delay * 2 ** min(beyond - 1, 30), self.max_failure_delay)

    async def _fail(self, key: str, now: datetime) -> int:
        row_is = col(LoginFailuresRow.email_normalized) == key
        first = LoginFailuresRow(email_normalized=key, failures=1, window_started_at=now)
        async with self.sessions() as session:
            if not await _count_one(session, col(LoginFailuresRow.failures), row_is, first):
                return 1
            row = (await session.exec(select(LoginFailuresRow).where(row_is))).one()
            if now - row.window_started_at > self.window:
                row.failures, row.window_started_at = 1, now
                session.add(row)
            failures = row.failures
            await session.commit()
            return failures


async def _count_one(
    session: AsyncSession,
    counter: Any,
    row_is: ColumnElement[bool],
    first: LoginThrottleRow | LoginFailuresRow,
) -> bool:
    """Adds one to ``counter`` in the row ``row_is`` picks: the transaction's first statement,
    so it takes the row's write lock until commit. With no such row yet, inserts ``first`` (the
    count at one) and commits; a racing insert of the same row fails the commit, and
    ``_retrying`` counts again. Answers whether the row was there."""
    counted = await session.exec(update(type(first)).where(row_is).values({counter: counter + 1}))
    if counted.rowcount == 0:
        session.add(first)
        await session.commit()
        return False
    return True


async def _retrying(transaction: Callable[[], Awaitable[T]]) -> T:
    """Runs ``transaction`` again after a lost insert race, a deadlock or a lock-wait timeout
    (each rolled back whole), up to ``TRIES`` times in all."""
    for attempt in range(TRIES):
        try:
            return await transaction()
        except IntegrityError:  # another request inserted the row first: count again
            pass
        except DBAPIError as error:
            if not is_retryable(error):
                raise
            log.info("login throttle transaction rolled back; retrying", extra={"try": attempt})
        await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise Unavailable("The login could not be counted; try again shortly.")
