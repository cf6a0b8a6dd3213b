"""Every record of a topic, handed to this process's watchers of the record's key.

A live view (a GraphQL subscription to one order) is served by whichever replica the client's
stream landed on, while the event that changes the order may be consumed by any replica's
consumer group member. So the fan-out is not part of a consumer group: each process reads
every partition itself (no group id, so no offsets are committed and no partition is taken
from another replica), starting at the end of the log, and wakes the watchers of each
record's key (the aggregate id: the outbox publishes with it as the Kafka key).

A wake carries no data: the watcher re-reads the aggregate from its store, so a record that
arrives twice, out of turn or not at all (the consumer was reconnecting) costs nothing but a
read, and what a watcher sends is what the database says. After the consumer (re)connects,
every watcher is woken once, to catch up on what it may have missed meanwhile.

Limits: ``max_total`` watchers in the process and ``max_per_owner`` per owner (an account);
past either, ``watch`` raises ``RateLimited`` and nothing is registered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import KW_ONLY, dataclass, field
from types import FrameType
from typing import Any

from aiokafka import AIOKafkaConsumer

from shopkit.errors import RateLimited, Unavailable
from shopkit.tasks import BackgroundTask

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


@dataclass(eq=False)
class Watch:
    """One watcher's wake-ups. ``closed`` is set when the process stops serving watchers."""

    key: str
    owner: str
    closed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._woken = asyncio.Event()

    def wake(self) -> None:
        self._woken.set()

    def close(self) -> None:
        self.closed = True
        self._woken.set()

    async def woken(self, within: float | None) -> bool:
        """Waits for a wake-up (True) or ``within`` seconds (False)."""
        try:
            await asyncio.wait_for(self._woken.wait(), within)
        except TimeoutError:
            return False
        self._woken.clear()
        return True


@dataclass(eq=False)
class KeyedFanout:
    bootstrap: str
    topic: str
    _: KW_ONLY
    max_total: int
    max_per_owner: int
    fetch_max_wait_ms: int = 50

    def __post_init__(self) -> None:
        self._watches: dict[str, set[Watch]] = defaultdict(set)
        self._per_owner: Counter[str] = Counter()
        self._total = 0
        self._stopping = False
        self._task = BackgroundTask(self._run, name=f"fanout-{self.topic}")

    @property
    def open_watches(self) -> int:
        return self._total

    @contextlib.contextmanager
    def watching(self, key: str, owner: str) -> Iterator[Watch]:
        """A watcher of ``key`` for ``owner`` while the block runs; ``RateLimited`` past a
        cap, ``Unavailable`` once the process is stopping."""
        watch = self.register(key, owner)
        try:
            yield watch
        finally:
            self.unregister(watch)

    def register(self, key: str, owner: str) -> Watch:
        """A new watcher of ``key`` for ``owner``; pair with ``unregister``."""
        if self._stopping:
            raise Unavailable("The service is restarting; subscribe again shortly.")
        if self._total >= self.max_total:
            raise RateLimited("Too many live subscriptions on this server; try again later.")
        if self._per_owner[owner] >= self.max_per_owner:
            raise RateLimited(
                f"You have {self.max_per_owner} live subscriptions open, the most allowed; "
                "close one first."
            )
        watch = Watch(key, owner)
        self._watches[key].add(watch)
        self._per_owner[owner] += 1
        self._total += 1
        return watch

    def unregister(self, watch: Watch) -> None:
        watchers = self._watches.get(watch.key)
        if watchers is None or watch not in watchers:
            return
        watchers.discard(watch)
        if not watchers:
            del self._watches[watch.key]
        self._per_owner[watch.owner] -= 1
        if self._per_owner[watch.owner] <= 0:
            del self._per_owner[watch.owner]
        self._total -= 1

    def wake(self, key: str) -> None:
        """Wakes the watchers of ``key`` (the consumer calls it for each record)."""
        for watch in self._watches.get(key, ()):
            watch.wake()

    def _wake_all(self) -> None:
        for watchers in self._watches.values():
            for watch in watchers:
                watch.wake()

    async def _run(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(
                self.topic,
                bootstrap_servers=self.bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="latest",
                fetch_max_wait_ms=self.fetch_max_wait_ms,
            )
            try:
                await consumer.start()
                self._wake_all()  # catch up on anything missed while (re)connecting
                async for record in consumer:
                    if record.key is not None:
                        self.wake(record.key.decode(errors="replace"))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("the fan-out consumer failed; reconnecting", exc_info=True)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(consumer.stop(), 5)
            await asyncio.sleep(RETRY_SECONDS)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[KeyedFanout]:
        """Runs the consumer; on exit, or as soon as the process is asked to stop, every
        watcher is closed (its stream tells the client to subscribe again)."""
        restore = self._close_on_stop_signals()
        async with self._task.running():
            try:
                yield self
            finally:
                self.close_all()
                restore()

    def _close_on_stop_signals(self) -> Callable[[], None]:
        """Closes the watchers when SIGTERM or SIGINT arrives, then passes the signal on.

        uvicorn waits for open responses to finish before it runs the lifespan's shutdown,
        and a subscription's response never finishes by itself: without this, a restart
        would wait for every subscriber to leave (or cut them off at a timeout, without a
        word). Chained to uvicorn's own handlers, so its shutdown goes on as before.
        """
        loop = asyncio.get_running_loop()
        previous: dict[signal.Signals, Any] = {}

        def on_stop(signum: int, frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(self.close_all)
            handler = previous.get(signal.Signals(signum))
            if callable(handler):
                handler(signum, frame)

        if threading.current_thread() is not threading.main_thread():
            return lambda: None  # signals reach the main thread only (a test's app)
        for stop in (signal.SIGTERM, signal.SIGINT):
            previous[stop] = signal.getsignal(stop)
            signal.signal(stop, on_stop)

        def restore() -> None:
            for stop, handler in previous.items():
                if signal.getsignal(stop) is on_stop:
                    signal.signal(stop, handler)

        return restore

    def close_all(self) -> None:
        """Stops serving watchers: each open one is told to end, new ones are refused."""
        self._stopping = True
        for watchers in self._watches.values():
            for watch in watchers:
                watch.close()
