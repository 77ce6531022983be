"""Keep one per duplicate cluster from the decide-all dialog (`*` on the duplicates queue, then
`o` and the kind), one step that one `u` undoes; and the preview lists the question, not a
system prompt the samples share. Pilot at 80x24, the store checked each time."""

from __future__ import annotations

from tui_helpers import app_for, build_project, chat, screen_text, settle

from review.model import Queue
from review.queues import default_queues
from review.store import Change, Store
from tui.screens.bulk import BulkDialog


def _project(tmp_path):
    sysp = "You are a helpful assistant. Answer briefly and politely."
    recs = [chat("q a", "same a", system=sysp)] * 3 + [chat("q b", "same b", system=sysp)] * 2
    recs += [chat("q c", "unique", system=sysp)]
    db = build_project(tmp_path / "k.db", recs)
    from review.analysis.run import run_analysis
    from review.embed import FakeEmbedder

    run_analysis(db, detectors=("exact",), embedder=FakeEmbedder())
    with Store(db) as store:
        store.apply(1, [Change(2, "keep")])  # the curator's pick in the first cluster stays kept
        q = Queue("duplicates")
        store.save_goal_state(1, default_queues().step(store, 1, q, 0), q)
    return db


def _state(db):
    with Store(db, create=False) as store:
        return {k: (d.verdict, d.reason) for k, d in store.materialised_decisions(1).items() if d.verdict}


async def _dialog(pilot, app) -> BulkDialog:
    await pilot.press("asterisk")
    for _ in range(200):
        await pilot.pause(0.02)
        if isinstance(app.screen, BulkDialog):
            break
    assert isinstance(app.screen, BulkDialog), "the bulk dialog never opened"
    return app.screen


async def _until(pilot, cond) -> None:
    for _ in range(200):
        await pilot.pause(0.02)
        if cond():
            return


async def test_keep_one_per_cluster_from_the_dialog_then_undo(tmp_path):
    db = _project(tmp_path)
    app = app_for(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dialog = await _dialog(pilot, app)
        assert "exact" in dialog.plans
        assert [prompt for _, _, prompt in dialog.summary.first][:2] == ["q a", "q a"]
        text = screen_text(app)
        assert "o keep one per duplicate cluster" in text
        rows = str(app.screen.query_one("#bulk-samples").render())
        assert "q a" in rows and "You are a helpful" not in rows  # the question, not the system prompt
        await pilot.press("o")
        assert "e exact: 2 clusters → keep 2, drop 3" in screen_text(app)
        await pilot.press("enter")  # no kind chosen yet: nothing happens
        assert isinstance(app.screen, BulkDialog)
        await pilot.press("e")
        await pilot.press("enter")
        await _until(pilot, lambda: len(_state(db)) == 5)
        assert _state(db) == {
            1: ("drop", "duplicate"),
            2: ("keep", None),
            3: ("drop", "duplicate"),
            4: ("keep", None),
            5: ("drop", "duplicate"),
        }
        await settle(pilot)
        assert any("one kept per cluster in one step" in n.message for n in app._notifications)
        await pilot.press("u")
        await _until(pilot, lambda: len(_state(db)) == 1)
        assert _state(db) == {2: ("keep", None)}


async def test_keep_one_is_not_offered_outside_the_duplicate_queues(tmp_path):
    db = _project(tmp_path)
    with Store(db) as store:
        store.save_goal_state(1, 1, Queue("all"))
    app = app_for(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dialog = await _dialog(pilot, app)
        assert dialog.plans == {}
        assert "keep one per duplicate cluster" not in screen_text(app)
        await pilot.press("o")
        assert dialog.verdict is None
