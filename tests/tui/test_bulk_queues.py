"""Pilot tests at 80x24 for queues that say what is in them (issue 16 item 3): the picker's
counts (the built-ins from the tallies, the others counted by a worker), what fills an empty
queue, and "N left" in the status line, kept current as samples are decided."""

from __future__ import annotations

from test_bulk import _search
from tui_helpers import app_for, screen_text, settle

from review.model import Queue
from tui.screens.dialogs import QueueDialog
from tui.screens.review import ReviewScreen


async def _wait(pilot, cond, what: str) -> None:
    for _ in range(200):
        if cond():
            return
        await pilot.pause()
    raise AssertionError(f"never: {what}")


async def test_the_picker_counts_every_queue_and_says_what_fills_an_empty_one(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("a", "a")  # #1, #2 kept
        await settle(pilot)
        await _search(pilot, "billing")
        await pilot.press("f")
        await _wait(pilot, lambda: isinstance(app.screen, QueueDialog), "the picker opened")
        dialog = app.screen
        lines = dict((q, label) for label, q in dialog.choices)
        assert lines[Queue("all")] == "all samples (30)"
        assert lines[Queue("undecided")] == "undecided (28)"
        assert lines[Queue("kept")] == "kept (2)"
        assert lines[Queue("dropped")] == "dropped (0) · x drops a sample"
        search = Queue("search", "billing")
        await _wait(pilot, lambda: "counting" not in dict((q, x) for x, q in dialog.choices)[search], "search counted")
        await _wait(pilot, lambda: all("counting" not in x for x, _ in dialog.choices), "all counted")
        lines = dict((q, label) for label, q in dialog.choices)
        assert lines[search] == "search “billing” (23)"
        assert lines[Queue("duplicates")] == "duplicates, cluster by cluster (0) · A (analysis) finds them"
        assert lines[Queue("batch")] == "proposed batch (0) · B proposes a batch"
        await pilot.pause()
        assert "kept (2)" in screen_text(app) and "dropped (0) · x drops a sample" in screen_text(app)
        # An empty queue is not entered: the notice says what fills it.
        index = next(i for i, (_, q) in enumerate(dialog.choices) if q == Queue("duplicates"))
        dialog.query_one("OptionList").highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.session.queue == search
        assert any(
            "duplicates, cluster by cluster: empty — A (analysis) finds them" in n.message for n in app._notifications
        )


async def test_the_status_line_says_how_many_are_left_and_keeps_it_current(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "○ 30 undecided left" in screen_text(app)
        await _search(pilot, "billing")
        await _wait(pilot, lambda: "0% · 23 left · ✔ 0 kept" in screen_text(app), "23 left in the search queue")
        await pilot.press("a")
        await settle(pilot)
        await _wait(pilot, lambda: "3% · 22 left · ✔ 1 kept" in screen_text(app), "22 left after a keep")
        await pilot.press("u")
        await settle(pilot)
        await _wait(pilot, lambda: "0% · 23 left · ✔ 0 kept" in screen_text(app), "23 left after the undo")
