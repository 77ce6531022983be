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


def _noisy_project(tmp_path):
    """Real records, some with an empty answer, some with a placeholder answer; the style run of
    the product itself flags them."""
    from tui_helpers import build_project, chat

    from review.style import run_style_analysis

    records = [
        chat(f"Explain topic {i} in one sentence.", f"Topic {i} is explained by fact {i * 7}.") for i in range(40)
    ]
    empty = {5, 17, 29}
    for i in empty:
        records[i] = chat(f"Explain topic {i} in one sentence.", "")
    for i in (9, 22):
        records[i] = chat(f"Explain topic {i} in one sentence.", "<noinput>")
    path = build_project(tmp_path / "p.db", records)
    run_style_analysis(path)
    return path, {i + 1 for i in empty}


async def test_a_noise_kind_is_a_queue_of_its_own_and_star_drops_all_of_it_in_one_step(tmp_path):
    from test_bulk import _dialog
    from tui_helpers import on_disk

    path, empty_ids = _noisy_project(tmp_path)
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await _wait(pilot, lambda: isinstance(app.screen, QueueDialog), "the picker opened")
        dialog = app.screen
        kind = Queue("noise_kind", "empty answer")
        queues = [q for _, q in dialog.choices]
        assert kind in queues, dialog.choices
        assert queues.index(kind) == queues.index(Queue("noisy")) + 1 + [
            q for q in queues if q.kind == "noise_kind"
        ].index(kind)  # listed right after the noisy queue, with the other kinds
        await _wait(pilot, lambda: "counting" not in dict((q, x) for x, q in dialog.choices)[kind], "counted")
        assert dict((q, x) for x, q in dialog.choices)[kind] == "noisy · empty answer (3)"
        dialog.query_one("OptionList").highlighted = queues.index(kind)
        await pilot.press("enter")
        await settle(pilot)
        await _wait(pilot, lambda: app.screen.view is not None and app.screen.view.queue == kind, "in the queue")
        assert app.screen.view.sample.id in empty_ids
        await _dialog(pilot, app)
        assert "3 samples" in screen_text(app)
        await pilot.press("x", "5", "enter")  # 5: incomplete
        for _ in range(200):
            await pilot.pause()
            if isinstance(app.screen, ReviewScreen) and not app.screen.busy:
                break
        await settle(pilot)
        decisions, _, _ = on_disk(path)
        assert {sid: (d.verdict, d.reason) for sid, d in decisions.items()} == {
            i: ("drop", "incomplete") for i in empty_ids
        }
        await pilot.press("u")  # one undo: all three
        await settle(pilot)
        assert {sid for sid, d in on_disk(path)[0].items() if d.verdict} == set()
