"""Background tasks: named, cancelled and awaited on stop; periodic jobs survive failures."""

import asyncio
import logging

import pytest

from shopkit.tasks import BackgroundTask, periodic


async def test_stop_cancels_the_task_and_waits_until_it_has_finished():
    events: list[str] = []

    async def run() -> None:
        events.append("started")
        try:
            await asyncio.sleep(60)
        finally:
            await asyncio.sleep(0)
            events.append("cleaned up")

    task = BackgroundTask(run, name="sleeper")
    task.start()
    await asyncio.sleep(0)
    assert [t.get_name() for t in asyncio.all_tasks()].count("sleeper") == 1
    await task.stop()
    assert events == ["started", "cleaned up"]
    assert "sleeper" not in [t.get_name() for t in asyncio.all_tasks()]
    await task.stop()  # stopping twice is harmless


async def test_periodic_job_keeps_running_after_a_failure(caplog: pytest.LogCaptureFixture):
    calls = 0

    async def job() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the database blinked")

    with caplog.at_level(logging.WARNING, logger="shopkit.tasks"):
        async with periodic(job, 0.01, name="sweep", what="test sweep").running():
            for _ in range(200):
                if calls >= 3:
                    break
                await asyncio.sleep(0.01)
    assert calls >= 3
    assert [r.getMessage() for r in caplog.records] == ["test sweep failed; will retry"]


async def test_stop_gives_up_on_a_task_stuck_in_its_shutdown():
    stuck = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            stuck.set()
            await asyncio.sleep(30)  # a client whose stop() never returns

    task = BackgroundTask(stubborn, name="stubborn")
    task.start()
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await task.stop(grace=0.2)
    assert stuck.is_set()
    assert loop.time() - started < 2
    for leftover in [t for t in asyncio.all_tasks() if t.get_name() == "stubborn"]:
        leftover.cancel()
