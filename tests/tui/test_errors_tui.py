"""The review screen when the project file refuses a write: an error on screen naming the file,
nothing acknowledged that is not in the file, no crash, and the same key works afterwards.
A busy project is waited for without freezing the screen.

Failures are injected at the SQLite boundary (reliability.scenarios.faults); busy is a real
second process holding the write lock (reliability.scenarios.contention.Holder).
"""

from __future__ import annotations

import asyncio
import time

from tui_helpers import app_for, on_disk, screen_text, settle, verdicts

from reliability.scenarios.contention import Holder
from reliability.scenarios.faults import injected
from tui.screens.review import ReviewScreen


def errors(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


async def until(pilot, condition, seconds: float = 20.0) -> None:
    """Pause until condition() holds (a loaded machine may take seconds to handle a key: generous)."""
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out waiting"
        await pilot.pause(0.05)


async def test_a_keep_the_file_refuses_is_an_error_and_nothing_moves(project):
    with injected() as plan:
        app = app_for(project)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            plan.arm(sql="BEGIN IMMEDIATE")
            await pilot.press("a")
            await settle(pilot)
            assert plan.fired
            assert app.is_running and isinstance(app.screen, ReviewScreen)
            assert app.screen.view.sample.id == 1 and app.screen.view.decision.verdict is None
            assert "○ undecided" in screen_text(app) and "✔ 0 kept" in screen_text(app)
            [message] = errors(app)
            assert message.startswith(f"keep #1: {project}: disk I/O error") and "nothing was written" in message
            assert verdicts(project) == {} and app.decided_this_run == 0
            plan.arm(None)
            await pilot.press("a")  # the same key, the fault gone
            await settle(pilot)
            assert verdicts(project) == {1: "keep"} and app.screen.view.sample.id == 2


async def test_a_keep_saved_whose_move_fails_is_shown_as_kept(project):
    with injected() as plan:
        app = app_for(project)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            plan.arm(sql="INSERT INTO goal_state")
            await pilot.press("a")
            await settle(pilot)
            assert plan.fired
            assert verdicts(project) == {1: "keep"}
            assert app.screen.view.sample.id == 1 and "✔ KEPT" in screen_text(app)
            assert "✔ 1 kept" in screen_text(app) and app.decided_this_run == 1
            [message] = errors(app)
            assert message.startswith("#1 kept (saved), but moving on:")
            assert on_disk(project)[1] in (None, 1)  # the cursor never moved on disk either
            plan.arm(None)
            await pilot.press("j")
            await settle(pilot)
            assert app.screen.view.sample.id == 2


async def test_a_view_that_cannot_be_read_says_so_and_recovers(project):
    with injected() as plan:
        app = app_for(project)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            plan.arm(sql="SELECT verdict, reason, note, tags, pref FROM decisions")
            await pilot.press("j")
            await pilot.pause()
            assert plan.fired
            assert "could not read the project" in screen_text(app)
            await pilot.press("a")  # nothing is shown as current: a decision key only rings the bell
            assert verdicts(project) == {}
            plan.arm(None)
            await pilot.pause(1.3)  # re-read each second
            await settle(pilot)
            assert app.screen.view.sample.id == 2 and "could not read" not in screen_text(app)


async def test_a_busy_project_is_waited_for_then_the_key_is_saved(project):
    app = app_for(project)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        with Holder(project) as holder:
            t = time.perf_counter()
            await pilot.press("a")
            stalled = time.perf_counter() - t
            await until(pilot, lambda: app.screen.busy)
            waiting = [n.message for n in app._notifications if "waiting" in n.message]
            assert waiting and f"process {holder.pid}" in waiting[0] and "Esc gives up" in waiting[0]
            assert verdicts(project) == {} and app.screen.view.sample.id == 1 and app.screen.busy
            await pilot.press("a")  # typed ahead while waiting: refused, not queued
        await until(pilot, lambda: not app.screen.busy)
        await settle(pilot)
        assert verdicts(project) == {1: "keep"} and app.screen.view.sample.id == 2
        # Pressing the key returned long before the 5 s a headless command waits.
        assert stalled < 2.0


async def test_escape_gives_up_a_busy_write(project):
    app = app_for(project)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        with Holder(project):
            await pilot.press("a")
            await until(pilot, lambda: app.screen.busy)
            await pilot.press("escape")
            await until(pilot, lambda: not app.screen.busy)
            assert any("gave up — nothing was written" in n.message for n in app._notifications)
            assert verdicts(project) == {} and app.screen.view.sample.id == 1
        await asyncio.sleep(0.2)  # nothing retries after giving up
        assert verdicts(project) == {}
        await pilot.press("a")
        await settle(pilot)
        assert verdicts(project) == {1: "keep"}
