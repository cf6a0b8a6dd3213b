"""Password hashing under a burst: one hash per slot at a time, and a request that cannot
start within the queue time is answered SERVICE_UNAVAILABLE at once, without hashing."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from shopkit.errors import Unavailable
from subgraphs.accounts.service.passwords import Passwords


async def test_a_request_that_cannot_start_hashing_in_time_is_refused_without_hashing():
    passwords = Passwords(slots=1, queue_seconds=0.2)
    release = threading.Event()
    hashed: list[str] = []
    real = passwords._hasher

    class Recording:
        """The real hasher; the first password holds its slot until released."""

        def hash(self, password: str) -> str:
            hashed.append(password)
            if password == "first-one-holds-the-slot":
                release.wait(5)
            return real.hash(password)

        def verify(self, password_hash: str, password: str) -> bool:
            return real.verify(password_hash, password)

    passwords._hasher = Recording()  # type: ignore[assignment]
    first = asyncio.create_task(passwords.hash("first-one-holds-the-slot"))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    with pytest.raises(Unavailable):
        await passwords.hash("second-one-waits-too-long")
    assert time.monotonic() - started < 1.0
    assert hashed == ["first-one-holds-the-slot"]  # the refused one was never hashed
    release.set()
    assert real.verify(await first, "first-one-holds-the-slot")
    # The slot is free again: the next request is admitted.
    assert await passwords.verify(await passwords.hash("third-one-gets-in"), "third-one-gets-in")
