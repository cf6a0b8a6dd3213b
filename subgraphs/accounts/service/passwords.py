"""Password hashing with Argon2id (argon2-cffi), off the event loop.

The parameters may only be raised above the OWASP minimum (m=19456 KiB, t=2, p=1). Hashes
made with weaker parameters are re-hashed at the next successful login.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

OWASP_MIN_MEMORY_KIB = 19456
OWASP_MIN_TIME_COST = 2
OWASP_MIN_PARALLELISM = 1


class Passwords:
    def __init__(
        self,
        memory_kib: int = OWASP_MIN_MEMORY_KIB,
        time_cost: int = OWASP_MIN_TIME_COST,
        parallelism: int = OWASP_MIN_PARALLELISM,
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

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

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
