"""Supervised tasks: a failing loop restarts after the backoff, a one-shot does not, and closing
the runner leaves nothing running."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from gateway.backoff import Backoff
from gateway.tasks import TaskRunner


async def test_a_task_that_raises_is_restarted_with_growing_delays() -> None:
    runner = TaskRunner(Backoff(0.01, 0.04))
    runs: list[int] = []
    fourth = asyncio.Event()

    async def flaky() -> None:
        runs.append(len(runs) + 1)
        if len(runs) == 4:
            fourth.set()
            await asyncio.Event().wait()  # healthy from now on
        raise RuntimeError(f"failure {len(runs)}")

    with capture_logs() as logs:
        runner.spawn("flaky", flaky)
        await asyncio.wait_for(fourth.wait(), timeout=5)
    assert runs == [1, 2, 3, 4]
    failures = [entry for entry in logs if entry["event"] == "task.failed"]
    assert [entry["restart_in_s"] for entry in failures] == [0.01, 0.02, 0.04]
    assert runner.running == {"flaky"}
    await runner.close()
    assert runner.running == frozenset()


async def test_a_task_that_returns_is_not_restarted() -> None:
    runner = TaskRunner(Backoff(0.01, 0.01))
    runs: list[str] = []

    async def once() -> None:
        runs.append("ran")

    await runner.spawn("once", once)
    assert runs == ["ran"]
    assert runner.running == frozenset()
    await runner.close()


async def test_a_one_shot_task_that_raises_is_logged_and_not_restarted() -> None:
    runner = TaskRunner(Backoff(0.01, 0.01))
    runs: list[str] = []

    async def broken() -> None:
        runs.append("ran")
        raise RuntimeError("broken")

    with capture_logs() as logs:
        await runner.spawn("broken", broken, restart=False)
    assert runs == ["ran"]
    assert [(e["event"], e["task"]) for e in logs if e["log_level"] == "error"] == [
        ("task.failed", "broken")
    ]
    await runner.close()


async def test_stop_cancels_one_task_and_close_cancels_the_rest() -> None:
    runner = TaskRunner()
    async def wait_forever() -> None:
        await asyncio.Event().wait()

    first = runner.spawn("first", wait_forever)
    second = runner.spawn("second", wait_forever)
    await asyncio.sleep(0)
    await runner.stop(first)
    assert first.cancelled()
    assert runner.running == {"second"}
    await runner.close()
    assert second.cancelled()
