"""Background tasks that live as long as the app: the outbox relay, the event consumer, and
periodic jobs such as sweeps and clean-ups.

``BackgroundTask`` starts a coroutine as a named task and, on stop, cancels it and waits
until it has finished. ``periodic`` builds one that runs a job every few seconds; a job that
fails is logged and tried again at the next turn, so one bad run never ends the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class BackgroundTask:
    def __init__(self, run: Callable[[], Coroutine[Any, Any, None]], *, name: str) -> None:
        self.run = run
        self.name = name
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self, grace: float = 10.0) -> None:
        """Cancels the task and waits for it, at most ``grace`` seconds: a task stuck in a
        client's shutdown (a broker that stopped answering) must not hang the app's."""
        if self._task is None:
            return
        task, self._task = self._task, None
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            log.warning("%s did not stop within %.0fs; leaving it", self.name, grace)
        elif not task.cancelled() and task.exception() is not None:
            log.warning("%s ended with an error", self.name, exc_info=task.exception())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Runs the task for the duration of the ``async with`` block."""
        self.start()
        try:
            yield
        finally:
            await self.stop()


def periodic(
    job: Callable[[], Awaitable[object]], every: float, *, name: str, what: str
) -> BackgroundTask:
    """A task that awaits ``job()`` every ``every`` seconds; ``what`` names it in the logs."""

    async def repeat() -> None:
        while True:
            try:
                await job()
            except Exception:
                log.warning("%s failed; will retry", what, exc_info=True)
            await asyncio.sleep(every)

    return BackgroundTask(repeat, name=name)
