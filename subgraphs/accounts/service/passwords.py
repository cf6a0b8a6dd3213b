"""Password hashing with Argon2id (argon2-cffi), off the event loop.

The parameters may only be raised above the OWASP minimum (m=19456 KiB, t=2, p=1). Hashes
made with weaker parameters are re-hashed at the next successful login.

Each hash or verification is about 50 ms of one core, so a burst of sign-ups and logins is
bounded by the machine's cores, and work past that only queues: with 200 customers at once
(make bench), registrations waited past the gateway's 10 s deadline, were answered
SERVICE_UNAVAILABLE, and were still hashed afterwards for nobody, while the client's retries
queued behind them. So at most one hash per core runs at a time, and a request that cannot
start one within ``queue_seconds`` is answered SERVICE_UNAVAILABLE at once ("try again
shortly") without doing the work: what is admitted finishes well inside the deadline, and the
cores only do work someone will read. Unknown emails and wrong passwords pass through the
same queue, so a refusal for being busy says nothing about an account.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from shopkit.errors import Unavailable

OWASP_MIN_MEMORY_KIB = 19456
OWASP_MIN_TIME_COST = 2
OWASP_MIN_PARALLELISM = 1
QUEUE_SECONDS = 5.0  # half the gateway's deadline (SHOP_SUBGRAPH_TIMEOUT_SECONDS, 10)
BUSY = "The shop is busy signing customers in; try again shortly."
T = TypeVar("T")


class Passwords:
    def __init__(
        self,
        memory_kib: int = OWASP_MIN_MEMORY_KIB,
        time_cost: int = OWASP_MIN_TIME_COST,
        parallelism: int = OWASP_MIN_PARALLELISM,
        *,
        slots: int | None = None,
        queue_seconds: float = QUEUE_SECONDS,
    ) -> None:
        if (
            memory_kib < OWASP_MIN_MEMORY_KIB
            or time_cost < OWASP_MIN_TIME_COST
            or parallelism < OWASP_MIN_PARALLELISM
        ):
            raise ValueError("Argon2 parameters below the OWASP minimum (m=19456, t=2, p=1)")
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._dummy = self._hasher.hash("not a real password: equalizes unknown-email timing")
        self._slots = asyncio.Semaphore(slots or os.cpu_count() or 1)
        self._queue_seconds = queue_seconds

    async def _admitted(self, work: Callable[..., T], *args: str) -> T:
        try:
            await asyncio.wait_for(self._slots.acquire(), self._queue_seconds)
        except TimeoutError:
            raise Unavailable(BUSY) from None
        try:
            return await asyncio.to_thread(work, *args)
        finally:
            self._slots.release()

    async def hash(self, password: str) -> str:
        return await self._admitted(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._admitted(self._verify, password_hash, password)

    async def burn(self, password: str) -> None:
        """Spends the time of one verification, for an email that has no account."""
        await self.verify(self._dummy, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
