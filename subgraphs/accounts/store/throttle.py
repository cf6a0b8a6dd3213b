"""The login throttle, kept in the database so every process sees the same counts.

Each attempt for an email (known or not) is counted *before* the password is checked, in one
transaction that takes the row's write lock, so racing attempts cannot all slip under the
limit. Once more than ``max_attempts`` arrive within ``window``, the email is locked for
``lockout * 2**n`` (capped), n being the number of earlier lockouts; a successful login clears
the row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from subgraphs.accounts.store.tables import LoginThrottleRow


class LoginThrottle:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_attempts: int,
        window: timedelta,
        lockout: timedelta,
        max_lockout: timedelta,
    ) -> None:
        self.sessions = sessions
        self.max_attempts = max_attempts
        self.window = window
        self.lockout = lockout
        self.max_lockout = max_lockout

    async def attempt(self, email: str, now: datetime) -> datetime | None:
        """Counts one attempt. Returns when the lock ends if the attempt is refused."""
        for _ in range(3):
            try:
                return await self._attempt(email.lower(), now)
            except IntegrityError:  # another process inserted the row first: count again
                continue
        raise RuntimeError("the login throttle row kept changing")

    async def _attempt(self, key: str, now: datetime) -> datetime | None:
        row_is = col(LoginThrottleRow.email_normalized) == key
        async with self.sessions() as session:
            # The first statement takes the row's write lock until commit.
            counted = await session.exec(
                update(LoginThrottleRow)
                .where(row_is)
                .values(attempts=col(LoginThrottleRow.attempts) + 1)
            )
            if counted.rowcount == 0:
                session.add(
                    LoginThrottleRow(
                        email_normalized=key,
                        attempts=1,
                        window_started_at=now,
                        locked_until=None,
                        lockouts=0,
                    )
                )
                await session.commit()
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

    async def succeeded(self, email: str) -> None:
        async with self.sessions() as session:
            await session.exec(
                delete(LoginThrottleRow).where(
                    col(LoginThrottleRow.email_normalized) == email.lower()
                )
            )
            await session.commit()
